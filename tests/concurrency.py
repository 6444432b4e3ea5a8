"""Real concurrency for the PostgreSQL tests: threads released together, each with its
own database connection."""

import threading

from django.db import connection


def race(target, count: int) -> tuple[list, list[Exception]]:
    """Run target(0..count-1) in `count` threads released at once by a barrier.
    Returns (the results by index, None where the call raised; the exceptions raised)."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def run(index):
        try:
            barrier.wait()
            results[index] = target(index)
        except Exception as exc:  # collected for the test to assert
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors
