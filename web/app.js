// The Parley playground: asks the backend for a room and a token, joins with the
// microphone, plays the agent, and shows captions, the agent's state, each turn's
// voice-to-voice latency and the session's running cost. In an intake room, the clinician
// view (?view=clinician) listens only and shows the record filling, what is missing, and a
// red-flag banner. No framework: the LiveKit JavaScript SDK (vendored UMD build) is the only
// dependency.
"use strict";

const LK = window.LivekitClient;
const $ = (id) => document.getElementById(id);

const BUDGET_MS = 800; // the seed's "feels live" budget
const SCALE_MS = 2000; // the bar's full width
const VOICE_LEVEL = 0.01; // RMS above which a frame counts as sound (-40 dBFS)

// What tests (and curious users, from the console) can read.
const state = {
  joined: false,
  room: null,
  identity: null,
  language: "en",
  agentState: null,
  micEnabled: false,
  agentAudioMs: 0,
  turns: [],
  captions: [],
  cost: null,
  errors: [],
  clinician: new URLSearchParams(location.search).get("view") === "clinician",
  intake: null, // the latest record (clinician view)
  escalation: null, // the red-flag rule that fired, if any
};
window.parley = state;

let room = null;
let names = null; // the client protocol's names, from GET /api/options (agent/protocol.py)
let audioCtx = null;
let micAnalyser = null;
const agentAnalysers = new Map();
const captionItems = new Map(); // segment id → its <li>
let lastVoiceAt = null;
let awaitingAnswer = false;
let pendingV2v = null;

// --- errors ---------------------------------------------------------------------------

function showError(message) {
  state.errors.push(message);
  const banner = $("error");
  banner.textContent = message;
  banner.hidden = false;
}

function clearError() {
  $("error").hidden = true;
}

function agentErrorText(raw) {
  try {
    const e = JSON.parse(raw);
    const where = e.field ? ` in ${e.field}` : "";
    return `The agent reports ${e.code}${where}: ${e.message}`;
  } catch {
    return `The agent reports an error: ${raw}`;
  }
}

// --- the form ---------------------------------------------------------------------------

function fill(select, entries, chosen) {
  for (const [value, label] of entries) {
    const option = new Option(label, value, false, value === chosen);
    select.add(option);
  }
}

async function loadOptions() {
  const params = new URLSearchParams(location.search);
  const resp = await fetch("/api/options");
  const opts = await resp.json();
  names = opts.protocol;
  fill($("mode"), opts.modes.map((m) => [m, m]), params.get("mode") || "assistant");
  fill($("pipeline"), Object.entries(opts.pipelines), params.get("pipeline") || "offline");
  fill($("preset"), opts.presets.map((p) => [p, p]), params.get("preset") || "conversation");
  fill($("language"), Object.entries(opts.languages), params.get("language") || "en");
  if (params.get("room")) $("room").value = params.get("room");
  if (params.get("name")) $("name").value = params.get("name");
}

function requestBody() {
  const body = {
    name: $("name").value,
    language: $("language").value,
    mode: $("mode").value,
    pipeline: $("pipeline").value,
    preset: $("preset").value,
    room: $("room").value,
    view: state.clinician ? "clinician" : "caller",
  };
  const config = $("config").value.trim();
  if (config) {
    try {
      body.config = JSON.parse(config);
    } catch (e) {
      throw new Error(`Advanced room config is not valid JSON: ${e.message}`);
    }
  }
  return body;
}

async function onJoin(event) {
  event.preventDefault();
  clearError();
  await optionsLoaded;
  let body;
  try {
    body = requestBody();
  } catch (e) {
    showError(e.message);
    return;
  }
  $("join").disabled = true;
  try {
    const resp = await fetch("/api/join", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await resp.json().catch(() => ({ error: { field: "", message: `HTTP ${resp.status}` } }));
    if (!resp.ok) {
      const e = data.error || {};
      showError(e.field ? `${e.field}: ${e.message}` : e.message || `HTTP ${resp.status}`);
      return;
    }
    state.language = body.language;
    await connect(data, body.mode);
  } catch (e) {
    showError(`Could not join: ${e.message}`);
  } finally {
    $("join").disabled = false;
  }
}

// --- the room -------------------------------------------------------------------------

async function connect(data, mode) {
  room = new LK.Room();
  room.on(LK.RoomEvent.TrackSubscribed, onTrack);
  room.on(LK.RoomEvent.TrackUnsubscribed, (track) => {
    agentAnalysers.delete(track.sid);
    track.detach().forEach((el) => el.remove());
  });
  room.on(LK.RoomEvent.ParticipantAttributesChanged, (_changed, p) => onAttributes(p));
  room.on(LK.RoomEvent.ParticipantConnected, (p) => onAttributes(p));
  room.on(LK.RoomEvent.TrackPublished, (_pub, p) => onAttributes(p));
  room.on(LK.RoomEvent.Disconnected, () => {
    state.joined = false;
    $("agent-state").textContent = "disconnected";
  });
  room.registerTextStreamHandler(names.transcription, onCaption);
  room.registerTextStreamHandler(names.report, onReport);
  room.registerTextStreamHandler(names.intake_record, onIntakeRecord);
  // Before connecting: in a room where the agent already speaks, its track arrives during
  // connect, and its level meter needs the audio context.
  audioCtx = new AudioContext();
  await audioCtx.resume();
  await room.connect(data.url, data.token);
  state.joined = true;
  state.room = data.room;
  state.identity = data.identity;
  $("room-name").textContent = data.room;
  $("me").textContent = data.identity;
  const share = new URL(location.href);
  share.search = new URLSearchParams({ room: data.room, mode }).toString();
  $("share-link").href = share.toString();
  if (mode === "intake") {
    share.search = new URLSearchParams({ room: data.room, mode, view: "clinician" }).toString();
    $("clinician-link").href = share.toString();
    $("clinician-link").hidden = state.clinician;
  }
  $("clinician").hidden = !state.clinician;
  $("join-form").hidden = true;
  $("session").hidden = false;
  for (const p of room.remoteParticipants.values()) onAttributes(p);
  setInterval(meter, 20);
}

function agentParticipant() {
  for (const p of room.remoteParticipants.values()) if (p.isAgent) return p;
  return null;
}

function onAttributes(participant) {
  if (!participant.isAgent) return;
  const attrs = participant.attributes || {};
  if (attrs[names.error] && !state.errors.includes(agentErrorText(attrs[names.error]))) {
    showError(agentErrorText(attrs[names.error]));
  }
  const agentState = attrs[names.agent_state];
  const publishing = participant.audioTrackPublications.size > 0;
  const waiting = attrs[names.error] ? "stopped by an error" : "joined, waiting for others";
  const shown = agentState || (publishing ? "interpreting" : waiting);
  state.agentState = shown;
  $("agent-state").textContent = shown;
  $("agent-state").className = `state ${shown}`;
  if (attrs[names.turn]) onTurn(attrs[names.turn]);
  if (attrs[names.intake_escalation]) onEscalation(attrs[names.intake_escalation]);
  // The microphone opens once the agent hears us, so the first words are not lost; the
  // clinician only listens.
  const ready = ["listening", "thinking", "speaking"].includes(agentState) || publishing;
  if (ready && !state.micEnabled && !state.clinician) enableMicrophone();
}

async function enableMicrophone() {
  state.micEnabled = true;
  try {
    const pub = await room.localParticipant.setMicrophoneEnabled(true);
    micAnalyser = analyser(pub.track.mediaStreamTrack);
    $("mic-state").textContent = "on";
  } catch (e) {
    state.micEnabled = false;
    showError(`Microphone unavailable: ${e.message}`);
  }
}

function onTrack(track, publication, participant) {
  if (track.kind !== "audio") return;
  const el = track.attach();
  el.dataset.participant = participant.identity;
  el.dataset.track = publication.trackName;
  $("audio").appendChild(el);
  if (participant.isAgent) agentAnalysers.set(track.sid, analyser(track.mediaStreamTrack));
}

// --- levels and voice-to-voice ----------------------------------------------------------

function analyser(mediaStreamTrack) {
  const source = audioCtx.createMediaStreamSource(new MediaStream([mediaStreamTrack]));
  const node = audioCtx.createAnalyser();
  node.fftSize = 1024;
  source.connect(node);
  return node;
}

function level(node) {
  const buf = new Float32Array(node.fftSize);
  node.getFloatTimeDomainData(buf);
  let sum = 0;
  for (const v of buf) sum += v * v;
  return Math.sqrt(sum / buf.length);
}

// Client-side voice-to-voice: our last voiced frame → the agent's first sound after it.
function meter() {
  const now = performance.now();
  if (micAnalyser && level(micAnalyser) > VOICE_LEVEL) {
    lastVoiceAt = now;
    awaitingAnswer = true;
  }
  let agentLevel = 0;
  for (const node of agentAnalysers.values()) agentLevel = Math.max(agentLevel, level(node));
  if (agentLevel > VOICE_LEVEL) {
    state.agentAudioMs += 20;
    if (awaitingAnswer && now - lastVoiceAt > 100) {
      pendingV2v = now - lastVoiceAt;
      awaitingAnswer = false;
    }
  }
}

// --- turns, latency bars and cost --------------------------------------------------------

function onTurn(raw) {
  let timing;
  try {
    timing = JSON.parse(raw);
  } catch {
    return;
  }
  if (state.turns.length && JSON.stringify(state.turns.at(-1).timing) === JSON.stringify(timing)) {
    return; // the same turn, re-read with another attribute change
  }
  const s = (v) => (typeof v === "number" && v > 0 ? v * 1000 : 0);
  const agentSide = s(timing.e2e_latency) || s(timing.response_delay);
  const total = pendingV2v ?? agentSide;
  pendingV2v = null;
  // Realtime models judge the end of the turn at the provider: what the worker did not
  // spend (response_delay) before its answer left went there and to the network.
  const eot = timing.e2e_latency == null && timing.response_delay != null
    ? Math.max(0, total - s(timing.response_delay))
    : s(timing.end_of_turn_delay);
  const segments = [
    ["eot", "end of turn", eot],
    ["model", "model first token", s(timing.llm_ttft) || s(timing.model_ttfb)],
    ["voice", "voice first audio", s(timing.tts_ttfb)],
  ];
  let used = 0;
  for (const seg of segments) {
    seg[2] = Math.min(seg[2], Math.max(0, total - used));
    used += seg[2];
  }
  segments.push(["rest", "network, playback and the rest", Math.max(0, total - used)]);
  const turn = { total_ms: Math.round(total), client_measured: total !== agentSide, timing, segments };
  state.turns.push(turn);
  drawTurn(turn);
}

function drawTurn(turn) {
  const li = document.createElement("li");
  li.className = "turn";
  const label = document.createElement("span");
  label.textContent = `${turn.total_ms} ms`;
  label.title = turn.client_measured ? "measured in this browser" : "measured by the agent";
  const bar = document.createElement("div");
  bar.className = "bar";
  for (const [cls, name, ms] of turn.segments) {
    const seg = document.createElement("span");
    seg.className = `seg ${cls}`;
    seg.style.width = `${(100 * Math.min(ms, SCALE_MS)) / SCALE_MS}%`;
    seg.title = `${name}: ${Math.round(ms)} ms`;
    bar.appendChild(seg);
  }
  const budget = document.createElement("span");
  budget.className = "budget";
  budget.style.left = `${(100 * BUDGET_MS) / SCALE_MS}%`;
  bar.appendChild(budget);
  li.append(label, bar);
  $("latency").appendChild(li);
}

async function onReport(reader) {
  try {
    const report = JSON.parse(await reader.readAll());
    if (report.cost) {
      state.cost = report.cost.total_dollars;
      const perMinute = report.cost.per_minute_dollars;
      $("cost").textContent = `$${state.cost.toFixed(4)}` +
        (perMinute ? ` ($${perMinute.toFixed(4)}/min)` : "");
    }
  } catch (e) {
    console.warn("unreadable session report", e);
  }
}

// --- the intake record (clinician view) -------------------------------------------------

function shownValue(value) {
  if (value === true) return "yes";
  if (value === false) return "no";
  if (Array.isArray(value)) return value.length ? value.join(", ") : "none";
  return String(value);
}

async function onIntakeRecord(reader) {
  let record;
  try {
    record = JSON.parse(await reader.readAll());
  } catch (e) {
    console.warn("unreadable intake record", e);
    return;
  }
  if (state.intake && state.intake.updated > record.updated) return; // an older one, late
  state.intake = record;
  $("intake-status").textContent = record.status.replace("_", " ");
  $("intake-status").className = `state ${record.status}`;
  const rows = $("intake-answers").querySelector("tbody");
  rows.replaceChildren();
  for (const [item, value] of Object.entries(record.answers)) {
    const tr = document.createElement("tr");
    for (const text of [item, shownValue(value)]) {
      const td = document.createElement("td");
      td.textContent = text; // never innerHTML: answers are what a caller said
      tr.appendChild(td);
    }
    rows.appendChild(tr);
  }
  $("intake-missing").textContent = record.missing.length ? record.missing.join(", ") : "nothing";
  if (record.escalation) onEscalation(record.escalation.rule);
}

function onEscalation(rule) {
  if (state.escalation === rule) return;
  state.escalation = rule;
  const banner = $("red-flag");
  banner.textContent = `Red flag: ${rule.replaceAll("_", " ")}. The caller was told to seek emergency care.`;
  banner.hidden = false;
}

// --- captions ---------------------------------------------------------------------------

function displayName(identity) {
  if (identity === state.identity) return "you";
  const p = room.remoteParticipants.get(identity);
  if (p && p.isAgent) return "agent";
  return (p && p.name) || identity;
}

// Whose words a caption carries: the participant that published the transcribed track.
function trackOwner(trackSid) {
  if (!trackSid) return null;
  for (const pub of room.localParticipant.trackPublications.values()) {
    if (pub.trackSid === trackSid) return state.identity;
  }
  for (const p of room.remoteParticipants.values()) {
    for (const pub of p.trackPublications.values()) if (pub.trackSid === trackSid) return p.identity;
  }
  return null;
}

async function onCaption(reader, info) {
  const attrs = reader.info.attributes || {};
  const target = attrs[names.target_language];
  // Interpretation into someone else's language is not for us.
  if (target && target.split("-")[0] !== state.language.split("-")[0]) {
    await reader.readAll();
    return;
  }
  const segment = attrs[names.segment] || reader.info.id;
  const speaker = attrs[names.speaker] || trackOwner(attrs[names.transcribed_track]) || info.identity;
  let entry = state.captions.find((c) => c.segment === segment);
  if (!entry) {
    const li = document.createElement("li");
    li.innerHTML = '<span class="who"></span><span class="lang"></span><span class="text"></span>';
    $("captions").appendChild(li);
    captionItems.set(segment, li);
    entry = { segment, speaker: displayName(speaker), target: target || null, text: "", final: false };
    state.captions.push(entry);
  }
  const li = captionItems.get(segment);
  li.querySelector(".who").textContent = entry.speaker;
  li.querySelector(".lang").textContent = target ? `→ ${target}` : "";
  // An interpretation arrives unit by unit under one segment id: each stream adds to it.
  let text = target && entry.text ? `${entry.text} ` : "";
  for await (const chunk of reader) {
    text += chunk;
    entry.text = text;
    li.querySelector(".text").textContent = text;
  }
  entry.final = attrs[names.final] === "true";
  // The agent's own words arrive as one stream per segment: complete once it closes.
  li.className = entry.final || entry.speaker === "agent" ? "final" : "interim";
  const list = $("captions");
  list.scrollTop = list.scrollHeight;
}

// --- start --------------------------------------------------------------------------------

$("join-form").addEventListener("submit", onJoin);
$("leave").addEventListener("click", async () => {
  if (room) await room.disconnect();
  location.href = "/";
});
// Joining needs the protocol's names: a join sent before they arrive waits for them.
const optionsLoaded = loadOptions().catch((e) =>
  showError(`The playground backend did not answer: ${e.message}`),
);
