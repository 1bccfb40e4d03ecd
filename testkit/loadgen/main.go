// Command loadgen is the load bench's users: one talking participant per room, in one Go
// process on pion (no Python, no WebRTC audio processing), so that simulating a room costs
// little of the CPU the worker under test needs.
//
// It reads a JSON spec (the file named by its one argument), joins that many rooms, publishes
// a microphone track in each (silence between utterances, as a real microphone sends) and
// dispatches the agent with the room config as metadata. When every agent listens (or failed
// to) it prints {"event":"ready",...} and waits for a "go" line on stdin; then all users say
// a clip at once, turn after turn, each waiting for the agent's answer to play out, and it
// prints {"event":"done",...}. A "quit" line (or end of stdin) leaves the rooms.
//
// The measures mirror the Python participant's (testkit/stack/participant.py): speech end is
// when the clip's last voiced frame left us; the answer begins at the first received frame
// louder than the silence threshold; v2v is the gap.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"gopkg.in/hraban/opus.v2"
)

const (
	rate       = 48000
	frame      = 20 * time.Millisecond
	frameLen   = rate / 50
	agentState = "lk.agent.state"
	// An answer has played out once nothing louder than silence came for this long.
	quietAfter = time.Second
)

type clipSpec struct {
	PCM       string  `json:"pcm"` // 48 kHz mono s16le
	QuietEndS float64 `json:"quiet_end_s"`
}

type spec struct {
	URL         string     `json:"url"`
	APIKey      string     `json:"api_key"`
	APISecret   string     `json:"api_secret"`
	AgentName   string     `json:"agent_name"`
	Metadata    string     `json:"metadata"`
	Prefix      string     `json:"prefix"`
	Rooms       int        `json:"rooms"`
	Turns       int        `json:"turns"`
	Clips       []clipSpec `json:"clips"`
	SilenceDBFS float64    `json:"silence_dbfs"`
	TimeoutS    float64    `json:"timeout_s"`
}

type clip struct {
	packets  [][]byte
	quietEnd time.Duration
}

type utterance struct {
	clip *clip
	done chan time.Time // the speech end
}

// user is one room's participant and what it observed, guarded by mu.
type user struct {
	room   *lksdk.Room
	name   string
	say    chan utterance
	mu     sync.Mutex
	state  string
	sounds []time.Time // frames louder than silence, as they arrived
	spoke  time.Time   // the latest "speaking"
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return errors.New("usage: loadgen SPEC.json")
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		return err
	}
	var s spec
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("spec: %w", err)
	}
	clips, silence, err := encodeClips(s.Clips)
	if err != nil {
		return err
	}
	timeout := time.Duration(s.TimeoutS * float64(time.Second))
	users := make([]*user, s.Rooms)
	ready := make([]float64, s.Rooms)
	var wg sync.WaitGroup
	for i := range users {
		users[i] = &user{name: fmt.Sprintf("%s-%d-%d", s.Prefix, os.Getpid(), i), say: make(chan utterance)}
		wg.Add(1)
		go func(u *user, i int) {
			defer wg.Done()
			ready[i] = -1
			if err := u.join(&s, silence); err != nil {
				fmt.Fprintf(os.Stderr, "loadgen: %s: %v\n", u.name, err)
				return
			}
			dispatched := time.Now()
			if err := dispatch(&s, u.name); err != nil {
				fmt.Fprintf(os.Stderr, "loadgen: %s: dispatch: %v\n", u.name, err)
				return
			}
			if err := u.waitListening(timeout); err != nil {
				fmt.Fprintf(os.Stderr, "loadgen: %s: %v\n", u.name, err)
				return
			}
			ready[i] = time.Since(dispatched).Seconds()
		}(users[i], i)
	}
	wg.Wait()
	defer func() {
		for _, u := range users {
			if u.room != nil {
				u.room.Disconnect()
			}
		}
	}()
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.name
	}
	emit(map[string]any{"event": "ready", "rooms": names, "ready_s": ready})

	stdin := bufio.NewScanner(os.Stdin)
	if !stdin.Scan() || stdin.Text() != "go" {
		return nil
	}
	v2v := make([][]float64, s.Rooms) // per room, per turn; -1: no answer
	for i := range v2v {
		v2v[i] = []float64{} // a room that never got ready has no turn
	}
	for turn := 0; turn < s.Turns; turn++ {
		for i, u := range users {
			if ready[i] < 0 {
				continue
			}
			wg.Add(1)
			go func(u *user, i int) {
				defer wg.Done()
				got, err := u.converse(clips[(turn+i)%len(clips)], timeout)
				if err != nil {
					fmt.Fprintf(os.Stderr, "loadgen: %s turn %d: %v\n", u.name, turn+1, err)
					got = -1
				}
				v2v[i] = append(v2v[i], got)
			}(u, i)
		}
		wg.Wait()
		fmt.Fprintf(os.Stderr, "loadgen: %d rooms, turn %d done\n", s.Rooms, turn+1)
	}
	emit(map[string]any{"event": "done", "v2v_s": v2v})
	stdin.Scan() // "quit" or end of input
	return nil
}

func emit(v map[string]any) {
	line, _ := json.Marshal(v)
	fmt.Println(string(line))
}

// encodeClips encodes every clip once, so that each user only sends packets.
func encodeClips(specs []clipSpec) ([]*clip, []byte, error) {
	enc, err := opus.NewEncoder(rate, 1, opus.AppVoIP)
	if err != nil {
		return nil, nil, err
	}
	encode := func(pcm []int16) ([]byte, error) {
		buf := make([]byte, 1500)
		n, err := enc.Encode(pcm, buf)
		return buf[:n], err
	}
	silence, err := encode(make([]int16, frameLen))
	if err != nil {
		return nil, nil, err
	}
	clips := make([]*clip, 0, len(specs))
	for _, cs := range specs {
		raw, err := os.ReadFile(cs.PCM)
		if err != nil {
			return nil, nil, err
		}
		pcm := make([]int16, len(raw)/2)
		for i := range pcm {
			pcm[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
		}
		c := &clip{quietEnd: time.Duration(cs.QuietEndS * float64(time.Second))}
		for start := 0; start < len(pcm); start += frameLen {
			chunk := make([]int16, frameLen) // the last one padded with silence
			copy(chunk, pcm[start:min(start+frameLen, len(pcm))])
			pkt, err := encode(chunk)
			if err != nil {
				return nil, nil, err
			}
			c.packets = append(c.packets, pkt)
		}
		clips = append(clips, c)
	}
	return clips, silence, nil
}

func dispatch(s *spec, room string) error {
	client := lksdk.NewAgentDispatchServiceClient(s.URL, s.APIKey, s.APISecret)
	_, err := client.CreateDispatch(context.Background(), &livekit.CreateAgentDispatchRequest{
		Room: room, AgentName: s.AgentName, Metadata: s.Metadata,
	})
	return err
}

func (u *user) join(s *spec, silence []byte) error {
	u.room = lksdk.NewRoom(&lksdk.RoomCallback{
		ParticipantCallback: lksdk.ParticipantCallback{
			OnTrackSubscribed: func(t *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, p *lksdk.RemoteParticipant) {
				if t.Kind() == webrtc.RTPCodecTypeAudio && p.Kind() == lksdk.ParticipantAgent {
					go u.listen(t, s.SilenceDBFS)
				}
			},
			OnAttributesChanged: func(changed map[string]string, p lksdk.Participant) {
				if state, ok := changed[agentState]; ok && p.Kind() == lksdk.ParticipantAgent {
					u.setState(state)
				}
			},
		},
	})
	err := u.room.Join(s.URL, lksdk.ConnectInfo{
		APIKey: s.APIKey, APISecret: s.APISecret, RoomName: u.name, ParticipantIdentity: "user",
	})
	if err != nil {
		return err
	}
	track, err := lksdk.NewLocalTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus})
	if err != nil {
		return err
	}
	_, err = u.room.LocalParticipant.PublishTrack(track, &lksdk.TrackPublicationOptions{
		Name: "microphone", Source: livekit.TrackSource_MICROPHONE,
	})
	if err != nil {
		return err
	}
	go u.speak(track, silence)
	return nil
}

func (u *user) setState(state string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.state = state
	if state == "speaking" {
		u.spoke = time.Now()
	}
}

// speak sends a frame every 20 ms by the wall clock: silence, or the utterance in hand.
func (u *user) speak(track *lksdk.LocalTrack, silence []byte) {
	var now *utterance
	sent := 0
	start := time.Now()
	for i := 1; u.room.ConnectionState() != lksdk.ConnectionStateDisconnected; i++ {
		if now == nil {
			select {
			case next := <-u.say:
				now, sent = &next, 0
			default:
			}
		}
		pkt := silence
		if now != nil {
			pkt = now.clip.packets[sent]
			sent++
		}
		_ = track.WriteSample(media.Sample{Data: pkt, Duration: frame}, nil)
		time.Sleep(time.Until(start.Add(time.Duration(i) * frame)))
		if now != nil && sent == len(now.clip.packets) {
			now.done <- time.Now().Add(-now.clip.quietEnd)
			now = nil
		}
	}
}

func (u *user) listen(track *webrtc.TrackRemote, silenceDBFS float64) {
	dec, err := opus.NewDecoder(rate, 1)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		return
	}
	pcm := make([]int16, rate*120/1000) // the longest Opus frame
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		n, err := dec.Decode(pkt.Payload, pcm)
		if err != nil || n == 0 {
			continue
		}
		if dbfs(pcm[:n]) > silenceDBFS {
			u.mu.Lock()
			u.sounds = append(u.sounds, time.Now())
			u.mu.Unlock()
		}
	}
}

func dbfs(pcm []int16) float64 {
	sum := 0.0
	for _, v := range pcm {
		sum += float64(v) * float64(v)
	}
	return 20 * math.Log10(math.Sqrt(sum/float64(len(pcm)))/32768+1e-12)
}

// poll waits until check holds, checking under the lock every 10 ms.
func (u *user) poll(what string, timeout time.Duration, check func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		u.mu.Lock()
		ok := check()
		u.mu.Unlock()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no %s within %s", what, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitListening waits until the agent listens.
func (u *user) waitListening(timeout time.Duration) error {
	return u.poll("listening agent", timeout, func() bool { return u.state == "listening" })
}

// converse says the clip once the agent listens and waits for its answer to play out; it
// returns the voice-to-voice delay in seconds.
func (u *user) converse(c *clip, timeout time.Duration) (float64, error) {
	if err := u.waitListening(timeout); err != nil {
		return 0, err
	}
	done := make(chan time.Time, 1)
	u.say <- utterance{clip: c, done: done}
	end := <-done
	var first time.Time
	err := u.poll("answer", timeout, func() bool {
		for _, t := range u.sounds {
			if t.After(end) {
				first = t
				return true
			}
		}
		return false
	})
	if err != nil {
		return 0, err
	}
	err = u.poll("answer's end", timeout, func() bool {
		last := u.sounds[len(u.sounds)-1]
		return u.state == "listening" && u.spoke.After(end) && time.Since(last) > quietAfter
	})
	return first.Sub(end).Seconds(), err
}
