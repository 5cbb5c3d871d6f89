"""``python -m web``: serve the dashboard with waitress (see web/serve.py)."""

import argparse
import os
import sys

from web import create_app
from web.serve import DEFAULT_THREADS, serve


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m web", description="Serve the clinician dashboard.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 for the clinic's network)")
    parser.add_argument("--port", type=int, default=8080, help="TCP port (default 8080)")
    parser.add_argument("--database", help="the database: a station's file or the clinic's URL, postgresql+psycopg://USER:PASSWORD@HOST/DB "
                             "(default: station.db in the instance folder)")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help=f"server threads (default {DEFAULT_THREADS})")
    args = parser.parse_args(argv)
    if args.database:
        os.environ["WALLHINGE_DATABASE"] = args.database
    app = create_app()
    try:
        serve(app, args.host, args.port, threads=args.threads)
    except KeyboardInterrupt:
        pass
    except ValueError as error:
        print(f"python -m web: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
