"""The websocket of a background job's page: ws/jobs/<id>/ relays the job's progress events.

Only the user who started the job (or staff) may join; others are refused at the handshake (4401 anonymous,
4403 not yours). On joining, the page gets the job as it stands ({"type": "job", "event": "snapshot", ...}), then
every event the workers push to the group job_<id> (search.services.jobs.job_announce): started, found,
downloaded, skipped, failed, indexed, progress, finished, cancelled.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from search.models import Job
from search.services.jobs import job_get_for_user, job_group, job_snapshot


class JobConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        try:
            job = await database_sync_to_async(job_get_for_user)(
                user=user, job_id=self.scope["url_route"]["kwargs"]["job_id"]
            )
        except Job.DoesNotExist:
            await self.close(code=4403)
            return
        self.group = job_group(job.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({**job_snapshot(job), "type": "job", "event": "snapshot"})

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        await self.send_json({"type": "error", "message": "this socket only sends job progress"})

    async def job_event(self, message: dict) -> None:
        await self.send_json({**message["event"], "type": "job"})
