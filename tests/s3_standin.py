"""An S3 stand-in for the object-storage tests: moto's S3 server on loopback.

Requests are served one at a time, so its conditional writes (If-None-Match: * and If-Match,
which moto checks before it stores) are atomic, as S3's own are. With
--ignore-conditional-writes it drops those headers: a store that cannot guarantee atomic
commits, which deltagres must refuse to start on.
"""

import argparse
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ignore-conditional-writes", action="store_true")
    args = parser.parse_args()
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def one_at_a_time(environ, start_response):
        if args.ignore_conditional_writes:
            environ.pop("HTTP_IF_NONE_MATCH", None)
            environ.pop("HTTP_IF_MATCH", None)
        with lock:
            result = app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        return [body]

    run_simple("127.0.0.1", args.port, one_at_a_time, threaded=True)


if __name__ == "__main__":
    main()
