"""Opening a room for Parley: create it, dispatch the agent into it with the room config, and
mint join tokens that open that one room only; and dial a patient into one. Used by the
playground, ``python -m stack room``, ``python -m agent dial`` and the tests alike."""

from __future__ import annotations

from datetime import timedelta

from livekit import api


def server_api(url: str, api_key: str | None, api_secret: str | None) -> api.LiveKitAPI:
    """The server API of the LiveKit server at ``url`` (its ``ws``/``wss`` address)."""
    return api.LiveKitAPI(url.replace("ws", "http", 1), api_key, api_secret)


def token(
    api_key: str,
    api_secret: str,
    room: str,
    identity: str,
    attributes: dict[str, str] | None = None,
    *,
    name: str | None = None,
    ttl: timedelta = timedelta(hours=6),
) -> str:
    """A join token for one room only, with no admin grant (``attributes``: the participant's
    initial ones)."""
    return (
        api.AccessToken(api_key, api_secret)
        .with_identity(identity)
        .with_name(name or identity)
        .with_attributes(attributes or {})
        .with_ttl(ttl)
        # Updating own attributes is how a participant changes language mid-call.
        .with_grants(api.VideoGrants(room_join=True, room=room, can_update_own_metadata=True))
        .to_jwt()
    )


async def create_room(
    url: str, api_key: str, api_secret: str, room: str, *, room_metadata: str = ""
) -> None:
    async with server_api(url, api_key, api_secret) as lk:
        await lk.room.create_room(api.CreateRoomRequest(name=room, metadata=room_metadata))


async def delete_room(url: str, api_key: str, api_secret: str, room: str) -> None:
    """Ends the room for everyone in it."""
    async with server_api(url, api_key, api_secret) as lk:
        await lk.room.delete_room(api.DeleteRoomRequest(room=room))


async def room_exists(url: str, api_key: str, api_secret: str, room: str) -> bool:
    async with server_api(url, api_key, api_secret) as lk:
        listed = await lk.room.list_rooms(api.ListRoomsRequest(names=[room]))
    return any(r.name == room for r in listed.rooms)


async def dispatch(
    url: str, api_key: str, api_secret: str, room: str, agent_name: str, metadata: str = ""
) -> None:
    async with server_api(url, api_key, api_secret) as lk:
        await lk.agent_dispatch.create_dispatch(
            api.CreateAgentDispatchRequest(agent_name=agent_name, room=room, metadata=metadata)
        )


async def call_out(
    url: str, api_key: str, api_secret: str, room: str, trunk_id: str, number: str
) -> api.SIPParticipantInfo:
    """Dials ``number`` through the outbound trunk ``trunk_id`` into ``room``
    (``CreateSIPParticipant``); returns once the SIP service placed the call. The callee
    joins as ``callee``: an identity that does not carry their number."""
    async with server_api(url, api_key, api_secret) as lk:
        return await lk.sip.create_sip_participant(
            api.CreateSIPParticipantRequest(
                sip_trunk_id=trunk_id,
                sip_call_to=number,
                room_name=room,
                participant_identity="callee",
                participant_name="Patient",
            )
        )
