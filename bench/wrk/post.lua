-- POST the body in BENCH_BODY with every request (headers come from wrk's -H).
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY") or "{}"
