-- GET /.well-known/jwks.json.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
