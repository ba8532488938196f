-- wrk: the same request keyrotor's driver sends (20-token prompt, max_tokens 16), naming a
-- model the mock serves today: a retired one is answered 404, and wrk would time cheap 404s.
-- driver_vs_wrk.sh refuses a round in which any answer was not a 2xx.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer gsk_bench_key"
wrk.body = '{"max_tokens":16,"messages":[{"content":"abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd","role":"user"}],"model":"openai/gpt-oss-120b"}'
