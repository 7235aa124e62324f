#!/usr/bin/python3
"""A libnice ICE peer for libnice.test.ts, driven over stdin/stdout, one JSON object a line.

Run with Debian's /usr/bin/python3 (python3-gi, gir1.2-nice-0.1):

    peer.py --role controlling|controlled [--nomination regular|aggressive] [--trickle] [--consent]

One stream with one component, UDP only, bound to 127.0.0.1 alone. Once gathering is done it
prints {"type": "local", "ufrag", "pwd", "candidates": ["candidate:..."], "nomination"}; then it
reads commands:

    {"type": "remote", "ufrag", "pwd", "candidates": [...]}   peer credentials, candidates and
                                                              end-of-candidates
    {"type": "send", "data": "text"}                          send on the selected pair
    {"type": "consent-lost"}                                  revoke consent (RFC 7675 §5.2)
    {"type": "restart"}                                       ICE restart (new credentials)

and reports what libnice does:

    {"type": "state", "state": "connecting|ready|failed|..."}  component-state-changed
    {"type": "selected-pair", "local": "ip:port", "remote": "ip:port", "localType", "remoteType"}
    {"type": "remote-candidate", "candidate": "candidate:..."}  learnt (peer-reflexive)
    {"type": "data", "data": "text"}                          application data received (UTF-8)
    {"type": "remote-set", "candidates": n}                   the "remote" command is done
    {"type": "sent", "bytes": n}
    {"type": "consent-lost", "ok": true}                      consent revoked
    {"type": "restarted", "ok": true, "ufrag", "pwd"}         restarted, new credentials
    {"type": "consent-request", "to": "ip:port"}              a consent check sent
    {"type": "consent-response"}                              its response received
    {"type": "role", "role": "controlling|controlled"}        switched on a role conflict
    {"type": "error", "message": "..."}

libnice exposes no signal for consent or role switches: those three events are read from its
debug log (GLib log domain "libnice"), whose wording is libnice 0.1.21's. The process ends at
stdin EOF.
"""

import argparse
import ctypes
import json
import re
import sys

import gi

gi.require_version("Nice", "0.1")
from gi.repository import GLib, Nice  # noqa: E402

COMPONENT = 1


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def address(addr):
    return f"{addr.dup_string()}:{addr.get_port()}"


parser = argparse.ArgumentParser()
parser.add_argument("--role", choices=["controlling", "controlled"], required=True)
parser.add_argument("--consent", action="store_true", help="RFC 7675 consent freshness")
parser.add_argument("--nomination", choices=["regular", "aggressive"], default="aggressive")
parser.add_argument("--trickle", action="store_true", help="ICE_TRICKLE, as webrtcbin sets it")
args = parser.parse_args()

# Consent checks and role switches are only in libnice's debug log (its controlling-mode
# property keeps the role the application set): route the "libnice" domain to a handler.
# With consent freshness on, libnice's consent checks are its "keepalive connchecks" on the
# selected pair (Binding requests, RFC 7675 §5.1): one when the pair is selected, then every
# 4-6 s; a matching response is logged as "Keepalive for selected pair ... received".
CONSENT_REQUEST = re.compile(r"Keepalive STUN-CC REQ to '([^']+)'")
CONSENT_RESPONSE = re.compile(r"Keepalive for selected pair \S+ received")
ROLE_SWITCH = re.compile(r'Role conflict, changing agent role to "(\w+)"')


def on_log(_domain, _level, message, _data):
    match = CONSENT_REQUEST.search(message)
    if match:
        emit({"type": "consent-request", "to": match.group(1)})
    elif CONSENT_RESPONSE.search(message):
        emit({"type": "consent-response"})
    else:
        match = ROLE_SWITCH.search(message)
        if match:
            emit({"type": "role", "role": match.group(1)})


GLib.log_set_handler("libnice", GLib.LogLevelFlags.LEVEL_DEBUG, on_log, None)
Nice.debug_enable(False)  # libnice's own debug, without the STUN library's

context = GLib.MainContext.default()
loop = GLib.MainLoop.new(context, False)
flags = Nice.AgentOption.NONE
if args.consent:
    flags |= Nice.AgentOption.CONSENT_FRESHNESS
if args.nomination == "regular":
    flags |= Nice.AgentOption.REGULAR_NOMINATION
if args.trickle:
    flags |= Nice.AgentOption.ICE_TRICKLE
agent = Nice.Agent.new_full(context, Nice.Compatibility.RFC5245, flags)
agent.props.controlling_mode = args.role == "controlling"
agent.props.ice_tcp = False
agent.props.upnp = False

loopback = Nice.Address.new()
loopback.set_from_string("127.0.0.1")
agent.add_local_address(loopback)
stream = agent.add_stream(1)


def candidate_line(candidate):
    # generate_local_candidate_sdp gives "a=candidate:..."; signalling carries "candidate:...".
    line = agent.generate_local_candidate_sdp(candidate)
    return line[2:] if line.startswith("a=") else line


def on_gathering_done(_agent, stream_id):
    ok, ufrag, pwd = agent.get_local_credentials(stream_id)
    if not ok:
        emit({"type": "error", "message": "no local credentials"})
        return
    candidates = [candidate_line(c) for c in agent.get_local_candidates(stream_id, COMPONENT)]
    emit(
        {
            "type": "local",
            "ufrag": ufrag,
            "pwd": pwd,
            "candidates": candidates,
            "nomination": agent.props.nomination_mode.value_nick,
        }
    )


def on_state(_agent, _stream_id, _component_id, state):
    emit({"type": "state", "state": Nice.component_state_to_string(state).lower()})


def on_selected(_agent, _stream_id, _component_id, local, remote):
    emit(
        {
            "type": "selected-pair",
            "local": address(local.addr),
            "remote": address(remote.addr),
            "localType": Nice.candidate_type_to_string(local.type),
            "remoteType": Nice.candidate_type_to_string(remote.type),
        }
    )


def on_remote_candidate(_agent, candidate):
    emit({"type": "remote-candidate", "candidate": candidate_line(candidate)})


agent.connect("candidate-gathering-done", on_gathering_done)
agent.connect("component-state-changed", on_state)
agent.connect("new-selected-pair-full", on_selected)
agent.connect("new-remote-candidate-full", on_remote_candidate)

# Received data comes through nice_agent_attach_recv's callback, which is not introspectable
# (it hands over a raw buffer), and the introspected recv functions lose their buffer-length
# argument: the callback is attached through ctypes, on the agent's own GObject pointer.
libnice = ctypes.CDLL("libnice.so.10")
# void (*NiceAgentRecvFunc) (NiceAgent *, guint stream, guint component, guint len, gchar *buf,
#                            gpointer user_data)
RECV = ctypes.CFUNCTYPE(
    None,
    ctypes.c_void_p,
    ctypes.c_uint,
    ctypes.c_uint,
    ctypes.c_uint,
    ctypes.c_void_p,
    ctypes.c_void_p,
)
libnice.nice_agent_attach_recv.argtypes = [
    ctypes.c_void_p,
    ctypes.c_uint,
    ctypes.c_uint,
    ctypes.c_void_p,
    RECV,
    ctypes.c_void_p,
]
libnice.nice_agent_attach_recv.restype = ctypes.c_bool
ctypes.pythonapi.PyCapsule_GetPointer.restype = ctypes.c_void_p
ctypes.pythonapi.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


def gpointer(obj):
    return ctypes.pythonapi.PyCapsule_GetPointer(obj.__gpointer__, None)


@RECV
def on_recv(_agent, _stream_id, _component_id, length, buf, _data):
    emit({"type": "data", "data": ctypes.string_at(buf, length).decode("utf-8", "replace")})


if not libnice.nice_agent_attach_recv(gpointer(agent), stream, COMPONENT, None, on_recv, None):
    emit({"type": "error", "message": "nice_agent_attach_recv failed"})


def on_command(line):
    command = json.loads(line)
    kind = command["type"]
    if kind == "remote":
        agent.set_remote_credentials(stream, command["ufrag"], command["pwd"])
        candidates = []
        for text in command["candidates"]:
            candidate = agent.parse_remote_candidate_sdp(stream, "a=" + text)
            if candidate is None:
                emit({"type": "error", "message": f"libnice could not parse {text}"})
            else:
                candidates.append(candidate)
        added = agent.set_remote_candidates(stream, COMPONENT, candidates)
        if added != len(candidates):
            emit({"type": "error", "message": f"set_remote_candidates added {added}"})
        # The candidates are all there is (end-of-candidates): a trickle agent may conclude.
        agent.peer_candidate_gathering_done(stream)
        emit({"type": "remote-set", "candidates": added})
    elif kind == "restart":
        # RFC 8445 §9: new credentials for the stream (same tie-breaker); the peer's come next.
        ok = agent.restart_stream(stream)
        _, ufrag, pwd = agent.get_local_credentials(stream)
        emit({"type": "restarted", "ok": ok, "ufrag": ufrag, "pwd": pwd})
    elif kind == "consent-lost":
        # RFC 7675 §5.2: the application withdraws consent; libnice answers 403 from then on.
        emit({"type": "consent-lost", "ok": agent.consent_lost(stream, COMPONENT)})
    elif kind == "send":
        # The binding takes the buffer as a str (gchar *), sent as its UTF-8 bytes.
        text = command["data"]
        emit({"type": "sent", "bytes": agent.send(stream, COMPONENT, len(text.encode()), text)})
    else:
        emit({"type": "error", "message": f"unknown command {kind}"})


def on_stdin(channel, condition):
    if condition & GLib.IOCondition.IN:
        status, line, _length, _terminator = channel.read_line()
        if status == GLib.IOStatus.NORMAL and line.strip():
            try:
                on_command(line)
            except Exception as error:  # report, keep running: the test decides
                emit({"type": "error", "message": repr(error)})
            return True
        if status in (GLib.IOStatus.AGAIN, GLib.IOStatus.NORMAL):
            return True
    loop.quit()
    return False


stdin = GLib.IOChannel.unix_new(sys.stdin.fileno())
watch = GLib.IOCondition.IN | GLib.IOCondition.HUP
GLib.io_add_watch(stdin, GLib.PRIORITY_DEFAULT, watch, on_stdin)

if not agent.gather_candidates(stream):
    emit({"type": "error", "message": "gather_candidates failed"})
loop.run()
