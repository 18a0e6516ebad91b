"""People (employees), face samples and embeddings, the face engine, the 1:N gallery,
enrolment and erasure."""
