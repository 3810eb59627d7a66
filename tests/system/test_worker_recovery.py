"""A folder ingest job survives its worker dying: first one pool process (kill -9), then the main worker process
(kill -9) with a supervisor starting a new worker. Nothing is lost and nothing is indexed twice.

The bound: a task a dead worker held comes back once it has been invisible for CELERY_VISIBILITY_TIMEOUT, found by
a restore sweep every CELERY_RESTORE_INTERVAL seconds; the system stack runs with short ones (20 s and 2 s), so the
job must finish within that plus the work itself. Production's defaults give the same guarantee in minutes.
"""

from __future__ import annotations

import signal
import time

import psutil
from PIL import Image, ImageDraw

from tests.system.stack import RESTORE_INTERVAL, VISIBILITY_TIMEOUT, wait_for

FILES = 240
SIZE = (2400, 1800)  # large enough that decoding them keeps the workers busy for a while
WORK_BOUND_SECONDS = 90


def _write_images(folder) -> None:
    folder.mkdir()
    for n in range(FILES):
        image = Image.new("RGB", SIZE, ((n * 37) % 256, (n * 91) % 256, (n * 53) % 256))
        draw = ImageDraw.Draw(image)
        draw.rectangle([n % 200, n % 150, 400 + n, 300 + n], fill=((n * 13) % 256, 200, (n * 7) % 256))
        image.save(folder / f"photo-{n:04d}.jpg", quality=80)


def _processed(system, job_id: int) -> int:
    return system.sql("SELECT count(*) FROM search_jobitem WHERE job_id = %s AND state <> 'pending'", (job_id,))[0][0]


def test_an_ingest_job_finishes_after_its_worker_processes_are_killed(system, tmp_path):
    folder = tmp_path / "photos"
    _write_images(folder)
    images_before = system.sql("SELECT count(*) FROM search_image")[0][0]
    job_id = system.ingest_job(folder)

    wait_for(lambda: _processed(system, job_id) >= 16, 120, "the workers have started on the job")
    main = psutil.Process(system.stack.pid("worker"))
    children = main.children()
    children[0].send_signal(signal.SIGKILL)  # a pool process dies mid-batch: its batch goes back to the queue

    done_before = _processed(system, job_id)
    wait_for(lambda: _processed(system, job_id) >= done_before + 16, 120, "the worker went on after losing a child")
    assert _processed(system, job_id) < FILES, "the job finished before the main process could be killed"
    orphans = main.children()
    system.stack.kill("worker")  # kill -9 of the main process: the tasks it held stay unacknowledged in Redis
    for orphan in orphans:  # a crashed host takes the pool processes with it
        orphan.kill()
    killed_at = time.monotonic()
    system.stack.restart("worker")  # what a supervisor does

    bound = VISIBILITY_TIMEOUT + RESTORE_INTERVAL + WORK_BOUND_SECONDS
    wait_for(lambda: system.job_counts(job_id)[0] == "succeeded", bound, f"the job succeeded within {bound} s")
    recovered_in = time.monotonic() - killed_at

    state, total, done, skipped, failed = system.job_counts(job_id)
    assert (state, total, done, skipped, failed) == ("succeeded", FILES, FILES, 0, 0)
    assert system.sql("SELECT count(*) FROM search_jobitem WHERE job_id = %s", (job_id,))[0][0] == FILES
    assert system.sql("SELECT count(*) FROM search_image")[0][0] == images_before + FILES
    assert (
        system.sql(
            "SELECT count(*) FROM search_jobitem i JOIN search_image m ON m.id = i.image_id WHERE i.job_id = %s",
            (job_id,),
        )[0][0]
        == FILES
    )
    print(f"recovered {recovered_in:.1f} s after the main worker process was killed (bound {bound} s)")
