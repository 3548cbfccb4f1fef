-- wrk: POST the same JSON body the other generators send.
wrk.method = "POST"
wrk.body = '{"id":"bench"}'
wrk.headers["Content-Type"] = "application/json"
