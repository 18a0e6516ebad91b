/*
 * The live page (/live/, detections/live_page.py): camera tiles, the detection feed,
 * unknown faces to label, today's counts and the roll call.
 *
 * Everything goes through the public REST API and the WebSocket, as any client's calls
 * do (docs/frontend.md), with an access token minted from the admin's session by a
 * CSRF-protected POST to /live/token: the API's roles and audit log apply unchanged.
 * Images need the token too, so they are fetched and shown as blob URLs.
 *
 * The WebSocket reconnects by itself with exponential back-off (1 s doubling to 30 s,
 * jittered), and says so on the page; after a reconnect the feed is filled in from
 * GET /detections/live so nothing seen while disconnected is missing.
 */
(() => {
  "use strict";

  const root = document.getElementById("live");
  const config = {
    tokenUrl: root.dataset.tokenUrl,
    api: root.dataset.apiBase,
    wsPath: root.dataset.wsPath,
    loginUrl: root.dataset.loginUrl,
    csrf: root.dataset.csrf,
    canAssign: root.dataset.canAssign === "true",
  };
  const FEED_LIMIT = 50;
  const TOKEN_MARGIN_MS = 60 * 1000;
  const BACKOFF_FIRST_MS = 1000;
  const BACKOFF_MAX_MS = 30 * 1000;
  const CAMERAS_EVERY_MS = 10 * 1000;
  const ATTENDANCE_EVERY_MS = 30 * 1000;
  const UNKNOWN_EVERY_MS = 30 * 1000;

  const $ = (id) => document.getElementById(id);
  const el = (tag, props = {}, children = []) => {
    const node = Object.assign(document.createElement(tag), props);
    for (const child of children) node.append(child);
    return node;
  };
  const timeOf = (iso) => (iso ? new Date(iso).toLocaleTimeString() : "–");

  /* --- Credentials ------------------------------------------------------------------ */

  let access = null;
  let accessExpiresAt = 0;
  let minting = null;

  function signIn() {
    const next = encodeURIComponent(window.location.pathname);
    window.location.assign(`${config.loginUrl}?next=${next}`);
  }

  async function mintToken() {
    const response = await fetch(config.tokenUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": config.csrf },
    });
    if (response.status === 401 || response.status === 403) {
      signIn();
      throw new Error("signed out");
    }
    if (!response.ok) throw new Error(`Could not get a token (HTTP ${response.status}).`);
    const body = await response.json();
    access = body.access;
    // From this browser's clock: it may differ from the server's.
    accessExpiresAt = Date.now() + body.expires_in * 1000;
    return access;
  }

  function token() {
    if (access && Date.now() < accessExpiresAt - TOKEN_MARGIN_MS) return Promise.resolve(access);
    minting = minting || mintToken().finally(() => { minting = null; });
    return minting;
  }

  /* --- REST ------------------------------------------------------------------------- */

  async function api(path, options = {}, retried = false) {
    const headers = { ...(options.headers || {}), Authorization: `Bearer ${await token()}` };
    const response = await fetch(config.api + path, { ...options, headers });
    if (response.status === 401 && !retried) {
      access = null; // revoked or expired early: mint once more, then give up
      return api(path, options, true);
    }
    return response;
  }

  async function apiJson(path, options) {
    const response = await api(path, options);
    const body = response.status === 204 ? null : await response.json();
    if (!response.ok) {
      const message = body && body.error ? body.error.message : `HTTP ${response.status}`;
      throw new Error(message);
    }
    return body;
  }

  const blobUrls = new WeakMap();

  async function showImage(img, path) {
    const response = await api(path);
    if (!response.ok) return;
    const url = URL.createObjectURL(await response.blob());
    const old = blobUrls.get(img);
    img.src = url;
    blobUrls.set(img, url);
    if (old) URL.revokeObjectURL(old);
  }

  let noticeFrom = null;

  function notice(what, message) {
    const box = $("notice");
    noticeFrom = message ? what : null;
    box.textContent = message ? `${what}: ${message}` : "";
    box.hidden = !message;
  }

  /* Runs ``work``; a failure is shown on the page (not thrown, not logged: the desk sees
   * it) until the same work next succeeds. */
  async function guarded(what, work) {
    try {
      await work();
      if (noticeFrom === what) notice(what, "");
    } catch (error) {
      if (error.message !== "signed out") notice(what, error.message);
    }
  }

  /* --- Cameras ---------------------------------------------------------------------- */

  const cameraTiles = new Map();

  function cameraTile(camera) {
    let tile = cameraTiles.get(camera.id);
    if (!tile) {
      tile = el("article", { className: "tile" });
      tile.dataset.cameraId = camera.id;
      tile.append(
        el("div", { className: "no-frame", textContent: "No frame yet" }),
        el("img", { alt: `Newest frame of ${camera.name}`, hidden: true }),
        el("h3"),
        el("div", { className: "meta" }),
      );
      cameraTiles.set(camera.id, tile);
    }
    return tile;
  }

  function rate(fps) {
    return fps == null ? "–" : Number(fps).toFixed(1);
  }

  function updateTile(camera) {
    const tile = cameraTile(camera);
    tile.querySelector("h3").textContent = camera.name;
    const meta = tile.querySelector(".meta");
    // fps is the rate frames are read from the stream; analysed_fps what recognition ran on.
    meta.replaceChildren(
      el("span", { className: `status status-${camera.status}`, textContent: camera.status }),
      ` · ${rate(camera.analysed_fps)} fps analysed · ${rate(camera.fps)} fps read`,
      ` · last frame ${timeOf(camera.last_frame_at)}`,
    );
    tile.title = camera.last_error || "";
    if (camera.status !== "online") {
      // No stale frame under a camera that stopped: the placeholder says why.
      tile.querySelector("img").hidden = true;
      const placeholder = tile.querySelector(".no-frame");
      placeholder.hidden = false;
      placeholder.textContent = camera.last_frame_at ? `No frame (${camera.status})` : "No frame yet";
    }
    return tile;
  }

  async function refreshCameras() {
    const page = await apiJson("/cameras?page_size=200&ordering=name");
    const container = $("cameras");
    const tiles = page.results.map(updateTile);
    container.replaceChildren(...(tiles.length ? tiles : [el("p", { className: "empty", textContent: "No cameras yet." })]));
    for (const camera of page.results) {
      // Only cameras that have a frame: asking the others would only get a 409.
      if (camera.status !== "online" || !camera.last_frame_at) continue;
      const tile = cameraTiles.get(camera.id);
      const img = tile.querySelector("img");
      await showImage(img, `/cameras/${camera.id}/snapshot`);
      if (img.src) {
        img.hidden = false;
        tile.querySelector(".no-frame").hidden = true;
      }
    }
  }

  /* --- Detections ------------------------------------------------------------------- */

  const feedItems = new Map();

  function renderDetection(detection, old) {
    const name = detection.person ? detection.person.full_name : "unknown";
    // An update keeps the crop already shown: each read of a face is an audited API call.
    const shown = old && old.querySelector("img.face");
    const reuse = shown && shown.dataset.faceUrl === detection.face_url;
    const img = reuse ? shown : el("img", { className: "face" });
    img.alt = `Face of ${name}`;
    img.dataset.faceUrl = detection.face_url || "";
    const item = el("li", { className: detection.person ? "known" : "unknown" }, [
      detection.face_url ? img : el("span", { className: "face-placeholder" }),
      el("div", {}, [
        el("div", { className: "who", textContent: name }),
        el("div", {
          className: "meta",
          textContent: `${Number(detection.score).toFixed(2)} · ${detection.camera.name} · ${timeOf(detection.captured_at)}`,
        }),
      ]),
    ]);
    item.dataset.detectionId = detection.id;
    item.dataset.capturedAt = detection.captured_at;
    if (detection.face_url && !reuse) {
      guarded("Face", () => showImage(img, detection.face_url.replace(/^\/api\/v1/, "")));
    }
    return item;
  }

  function showDetection(detection) {
    const feed = $("feed");
    const old = feedItems.get(detection.id);
    const item = renderDetection(detection, old);
    if (old) {
      old.replaceWith(item);
    } else {
      // Newest first: before the first item captured earlier than this one.
      const at = Date.parse(detection.captured_at);
      const later = [...feed.children].find((li) => Date.parse(li.dataset.capturedAt) < at);
      feed.insertBefore(item, later || null);
    }
    feedItems.set(detection.id, item);
    while (feed.children.length > FEED_LIMIT) {
      const last = feed.lastElementChild;
      feedItems.delete(Number(last.dataset.detectionId));
      last.remove();
    }
    $("feed-empty").hidden = feed.children.length > 0;
  }

  async function backfillDetections() {
    const body = await apiJson("/detections/live?seconds=600");
    for (const detection of body.results.slice().reverse()) showDetection(detection);
    $("feed-empty").hidden = $("feed").children.length > 0;
  }

  /* --- Unknown faces ---------------------------------------------------------------- */

  let people = [];

  async function loadPeople() {
    const page = await apiJson("/people?page_size=200&ordering=full_name");
    people = page.results;
  }

  function assignForm(group) {
    const select = el("select", { name: "person", required: true }, [
      el("option", { value: "", textContent: "Choose a person…" }),
      ...people.map((p) => el("option", { value: p.id, textContent: `${p.full_name} (${p.employee_code})` })),
    ]);
    const enroll = el("input", { type: "checkbox", name: "enroll" });
    const button = el("button", { type: "submit", className: "button", textContent: "This is…" });
    const form = el("form", {}, [select, el("label", {}, [enroll, " enrol the face"]), button]);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!select.value) return;
      button.disabled = true;
      guarded("Labelling", async () => {
        await apiJson(`/detections/unknown-faces/${group.id}/assign`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ person: Number(select.value), enroll: enroll.checked }),
        });
        await refreshUnknown();
      }).finally(() => { button.disabled = false; });
    });
    return form;
  }

  const groupItems = new Map();

  function groupMeta(group) {
    const where = group.last_camera ? group.last_camera.name : "–";
    return `seen ${group.seen_count}× · last ${timeOf(group.last_seen)} at ${where}`;
  }

  function renderGroup(group) {
    const img = el("img", { alt: group.label });
    if (group.face_url) guarded("Face", () => showImage(img, group.face_url.replace(/^\/api\/v1/, "")));
    const item = el("li", {}, [
      group.face_url ? img : el("span", { className: "face-placeholder" }),
      el("div", {}, [
        el("div", { className: "who", textContent: group.label }),
        el("div", { className: "meta", textContent: groupMeta(group) }),
        ...(config.canAssign ? [assignForm(group)] : []),
      ]),
    ]);
    item.dataset.groupId = group.id;
    return item;
  }

  async function refreshUnknown() {
    const page = await apiJson("/detections/unknown-faces?page_size=50&ordering=-last_seen");
    const open = page.results.filter((group) => !group.resolved_person);
    // Kept items keep what staff chose in their form; only their counts change.
    const items = open.map((group) => {
      const kept = groupItems.get(group.id);
      if (kept) {
        kept.querySelector(".meta").textContent = groupMeta(group);
        return kept;
      }
      return renderGroup(group);
    });
    groupItems.clear();
    for (const item of items) groupItems.set(Number(item.dataset.groupId), item);
    $("unknown").replaceChildren(...items);
    $("unknown-empty").hidden = items.length > 0;
  }

  /* --- Attendance ------------------------------------------------------------------- */

  async function refreshAttendance() {
    const [today, present] = await Promise.all([
      apiJson("/attendance/analytics"),
      apiJson("/attendance/present?page_size=200"),
    ]);
    for (const key of ["present", "late", "absent", "arrived"]) $(`count-${key}`).textContent = today[key];
    const rows = present.results.map((row) =>
      el("tr", {}, [
        el("td", { textContent: row.person.full_name }),
        el("td", { textContent: timeOf(row.since) }),
        el("td", { textContent: timeOf(row.last_seen_at) }),
        el("td", { textContent: row.camera ? row.camera.name : "–" }),
      ]),
    );
    $("roll").replaceChildren(...rows);
    $("roll-empty").hidden = rows.length > 0;
  }

  /* --- The WebSocket ---------------------------------------------------------------- */

  let failures = 0;
  let reconnecting = false;

  function connectionState(state, text) {
    const badge = $("connection");
    badge.dataset.state = state;
    badge.textContent = text;
  }

  function reconnectLater() {
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** failures) * (0.5 + Math.random() / 2);
    failures += 1;
    connectionState("reconnecting", `Reconnecting in ${Math.ceil(delay / 1000)} s…`);
    window.setTimeout(connect, delay);
  }

  function onMessage(message) {
    const { type, data } = message;
    if (type === "detection.created" || type === "detection.updated") {
      showDetection(data);
      if (type === "detection.updated" && data.unknown_face && !data.person) {
        guarded("Unknown faces", refreshUnknown);
      }
    } else if (type === "attendance.created") {
      guarded("Attendance", refreshAttendance);
    } else if (type === "camera.status") {
      updateTile(data);
    }
  }

  async function connect() {
    connectionState("connecting", "Connecting…");
    let current;
    try {
      current = await token();
    } catch (error) {
      if (error.message !== "signed out") reconnectLater();
      return;
    }
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const url = `${scheme}//${window.location.host}${config.wsPath}?token=${encodeURIComponent(current)}`;
    const socket = new WebSocket(url);
    let opened = false;
    socket.addEventListener("open", () => {
      opened = true;
      failures = 0;
      connectionState("live", "Live");
      guarded("Detections", backfillDetections);
      if (reconnecting) refreshAll(); // what changed while the page was cut off
      reconnecting = true;
    });
    socket.addEventListener("message", (event) => onMessage(JSON.parse(event.data)));
    socket.addEventListener("close", (event) => {
      if (event.code === 4403) {
        connectionState("refused", "This page may not connect (origin refused).");
        return;
      }
      if (event.code === 4401) {
        // The token expired or was revoked: a new one, at once if this one had worked.
        access = null;
        if (opened) {
          window.setTimeout(connect, 0);
          return;
        }
      }
      reconnectLater();
    });
  }

  /* --- Start ------------------------------------------------------------------------ */

  function every(ms, what, work) {
    guarded(what, work);
    window.setInterval(() => guarded(what, work), ms);
  }

  async function refreshPeopleAndUnknown() {
    await loadPeople();
    await refreshUnknown();
  }

  function refreshAll() {
    guarded("Cameras", refreshCameras);
    guarded("Attendance", refreshAttendance);
    guarded("Unknown faces", refreshPeopleAndUnknown);
  }

  connect();
  every(CAMERAS_EVERY_MS, "Cameras", refreshCameras);
  every(ATTENDANCE_EVERY_MS, "Attendance", refreshAttendance);
  every(UNKNOWN_EVERY_MS, "Unknown faces", refreshPeopleAndUnknown);
})();
