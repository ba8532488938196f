-- wrk: the same request keyrotor's driver sends (20-token prompt, max_tokens 16).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer gsk_bench_key"
wrk.body = '{"max_tokens":16,"messages":[{"content":"abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd","role":"user"}],"model":"llama-3.3-70b-versatile"}'
