// sipbridge stands in for livekit-sip on the control plane so that tests exercise the real
// server's SIP API: it evaluates dispatch rules and serves CreateSIPParticipant and
// TransferSIPParticipant over psrpc (Redis), exactly where livekit-sip would. The media leg
// (joining the room, the phone codec, DTMF) is the Python phone in testkit/stack/phone.py,
// which talks to this process over HTTP on loopback:
//
//	POST /inbound {"from","to","source_ip"}  -> dispatch result, room token and attributes
//	GET  /next                                -> the next SIP request the server made (long poll)
//	POST /reply {"id","error","identity"}     -> the answer to that request
//	POST /hangup {"call_id"}                  -> the call ended: stop serving its transfers
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/livekit/protocol/livekit"
	"github.com/livekit/protocol/rpc"
	"github.com/livekit/protocol/sip"
	"github.com/livekit/psrpc"
)

type bridge struct {
	key, secret, wsURL string
	io                 rpc.IOInfoClient
	server             rpc.SIPInternalServer

	mu      sync.Mutex
	nextID  int
	queue   chan *pending
	waiting map[int]*pending
}

// pending is one request from the server, handed to the phone and answered by it.
type pending struct {
	ID      int             `json:"id"`
	Method  string          `json:"method"`
	Request json.RawMessage `json:"request"`
	// For CreateSIPParticipant: what livekit-sip would join the room with.
	Token      string            `json:"token,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	CallID     string            `json:"call_id,omitempty"`
	answer     chan reply
}

type reply struct {
	ID       int    `json:"id"`
	Error    string `json:"error"`
	Identity string `json:"identity"`
}

func (b *bridge) ask(ctx context.Context, method string, req proto.Message, p *pending) (reply, error) {
	body, err := protojson.Marshal(req)
	if err != nil {
		return reply{}, err
	}
	b.mu.Lock()
	b.nextID++
	p.ID, p.Method, p.Request, p.answer = b.nextID, method, body, make(chan reply, 1)
	b.waiting[p.ID] = p
	b.mu.Unlock()
	defer func() { b.mu.Lock(); delete(b.waiting, p.ID); b.mu.Unlock() }()
	select {
	case b.queue <- p:
	case <-ctx.Done():
		return reply{}, ctx.Err()
	}
	select {
	case r := <-p.answer:
		if r.Error != "" {
			return r, psrpc.NewErrorf(psrpc.Unavailable, "%s", r.Error)
		}
		return r, nil
	case <-ctx.Done():
		return reply{}, ctx.Err()
	}
}

// CreateSIPParticipant is an outbound call: livekit-sip dials, and joins the room once answered.
func (b *bridge) CreateSIPParticipant(ctx context.Context, req *rpc.InternalCreateSIPParticipantRequest) (*rpc.InternalCreateSIPParticipantResponse, error) {
	log.Printf("CreateSIPParticipant call %s into room %s", req.SipCallId, req.RoomName)
	attrs := map[string]string{}
	for k, v := range req.ParticipantAttributes {
		attrs[k] = v
	}
	attrs[livekit.AttrSIPCallID] = req.SipCallId
	attrs[livekit.AttrSIPTrunkID] = req.SipTrunkId
	attrs[livekit.AttrSIPPhoneNumber] = req.CallTo
	attrs[livekit.AttrSIPTrunkNumber] = req.Number
	attrs[livekit.AttrSIPCallStatus] = "dialing"
	token, err := b.token(req.RoomName, req.ParticipantIdentity, req.ParticipantName, req.ParticipantMetadata, attrs, nil)
	if err != nil {
		return nil, err
	}
	if err := b.server.RegisterTransferSIPParticipantTopic(req.SipCallId); err != nil {
		return nil, err
	}
	r, err := b.ask(ctx, "CreateSIPParticipant", req, &pending{Token: token, Attributes: attrs, CallID: req.SipCallId})
	if err != nil {
		b.server.DeregisterTransferSIPParticipantTopic(req.SipCallId)
		return nil, err
	}
	return &rpc.InternalCreateSIPParticipantResponse{ParticipantIdentity: r.Identity, SipCallId: req.SipCallId}, nil
}

// TransferSIPParticipant is a SIP REFER: the phone accepts it (the carrier connects the caller to
// the target) and the call then ends, as livekit-sip ends it after a successful REFER.
func (b *bridge) TransferSIPParticipant(ctx context.Context, req *rpc.InternalTransferSIPParticipantRequest) (*emptypb.Empty, error) {
	log.Printf("TransferSIPParticipant call %s", req.SipCallId)
	if _, err := b.ask(ctx, "TransferSIPParticipant", req, &pending{CallID: req.SipCallId}); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// token is livekit-sip's own room token for a call (protocol's sip.BuildSIPToken): the
// identifying attributes go in the token, the rest are set after joining.
func (b *bridge) token(room, identity, name, metadata string, attrs map[string]string, conf *livekit.RoomConfiguration) (string, error) {
	inToken := map[string]string{}
	for _, k := range []string{livekit.AttrSIPCallID, livekit.AttrSIPTrunkID, livekit.AttrSIPDispatchRuleID, livekit.AttrSIPTrunkNumber, livekit.AttrSIPPhoneNumber} {
		if v, ok := attrs[k]; ok {
			inToken[k] = v
		}
	}
	return sip.BuildSIPToken(sip.SIPTokenParams{
		APIKey: b.key, APISecret: b.secret, RoomName: room, ParticipantIdentity: identity,
		ParticipantName: name, ParticipantMetadata: metadata, ParticipantAttributes: inToken, RoomConfig: conf,
	})
}

type inbound struct {
	From     string `json:"from"`
	To       string `json:"to"`
	SourceIP string `json:"source_ip"`
}

func (b *bridge) inbound(w http.ResponseWriter, r *http.Request) {
	var in inbound
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	callID := sip.NewCallID()
	res, err := b.io.EvaluateSIPDispatchRules(r.Context(), &rpc.EvaluateSIPDispatchRulesRequest{
		SipCallId: callID, CallingNumber: in.From, CallingHost: "carrier.invalid",
		CalledNumber: in.To, CalledHost: "sip.livekit.invalid", SrcAddress: in.SourceIP,
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out := map[string]any{"result": res.Result.String(), "call_id": callID}
	if res.Result == rpc.SIPDispatchResult_ACCEPT {
		attrs := res.ParticipantAttributes
		if attrs == nil {
			attrs = map[string]string{}
		}
		attrs[livekit.AttrSIPCallStatus] = "ringing"
		token, err := b.token(res.RoomName, res.ParticipantIdentity, res.ParticipantName, res.ParticipantMetadata, attrs, res.RoomConfig)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if err := b.server.RegisterTransferSIPParticipantTopic(callID); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		out["room"], out["identity"], out["token"], out["attributes"] = res.RoomName, res.ParticipantIdentity, token, attrs
		out["ws_url"] = b.wsURL
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (b *bridge) next(w http.ResponseWriter, r *http.Request) {
	select {
	case p := <-b.queue:
		_ = json.NewEncoder(w).Encode(p)
	case <-time.After(20 * time.Second):
		w.WriteHeader(http.StatusNoContent)
	case <-r.Context().Done():
	}
}

func (b *bridge) reply(w http.ResponseWriter, r *http.Request) {
	var rep reply
	if err := json.NewDecoder(r.Body).Decode(&rep); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	p, ok := b.waiting[rep.ID]
	b.mu.Unlock()
	if !ok {
		http.Error(w, fmt.Sprintf("no request %d is waiting", rep.ID), http.StatusNotFound)
		return
	}
	p.answer <- rep
	w.WriteHeader(http.StatusNoContent)
}

func (b *bridge) hangup(w http.ResponseWriter, r *http.Request) {
	var body struct {
		CallID string `json:"call_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.server.DeregisterTransferSIPParticipantTopic(body.CallID)
	w.WriteHeader(http.StatusNoContent)
}

func main() {
	redisAddr := flag.String("redis", "127.0.0.1:6379", "the Redis the livekit-server uses")
	listen := flag.String("http", "127.0.0.1:0", "the phone's HTTP side")
	wsURL := flag.String("ws-url", "ws://127.0.0.1:7880", "the server's URL for joining rooms")
	key := flag.String("key", "devkey", "API key")
	secret := flag.String("secret", "secret", "API secret")
	flag.Parse()

	bus := psrpc.NewRedisMessageBus(redis.NewClient(&redis.Options{Addr: *redisAddr}))
	io, err := rpc.NewIOInfoClient(bus)
	if err != nil {
		log.Fatal(err)
	}
	b := &bridge{key: *key, secret: *secret, wsURL: *wsURL, io: io, queue: make(chan *pending), waiting: map[int]*pending{}}
	if b.server, err = rpc.NewSIPInternalServer(b, bus); err != nil {
		log.Fatal(err)
	}
	if err := b.server.RegisterCreateSIPParticipantTopic(""); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /inbound", b.inbound)
	mux.HandleFunc("GET /next", b.next)
	mux.HandleFunc("POST /reply", b.reply)
	mux.HandleFunc("POST /hangup", b.hangup)
	log.Printf("sipbridge: serving on %s, redis %s", *listen, *redisAddr)
	log.Fatal(http.ListenAndServe(*listen, mux))
}
