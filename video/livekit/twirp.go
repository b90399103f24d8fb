package livekit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// roomService is a client of LiveKit's RoomService, spoken as Twirp with
// JSON bodies (POST /twirp/livekit.RoomService/<Method>): the few calls
// rathaus needs, without LiveKit's SDK (which would bring its own pion).
type roomService struct {
	base  string // http(s)://host:port
	creds Credentials
	http  *http.Client
	now   func() time.Time
}

// TwirpError is an error answer of LiveKit's API.
type TwirpError struct {
	Status int
	Code   string `json:"code"`
	Msg    string `json:"msg"`
}

func (e *TwirpError) Error() string {
	return fmt.Sprintf("livekit: %s (%d): %s", e.Code, e.Status, e.Msg)
}

// isNotFound reports whether err is LiveKit's "not found".
func isNotFound(err error) bool {
	var te *TwirpError
	return errors.As(err, &te) && (te.Code == "not_found" || te.Status == http.StatusNotFound)
}

func (s *roomService) call(ctx context.Context, method, room string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	token, err := AdminToken(s.creds, room, s.now())
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/twirp/livekit.RoomService/"+method, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return fmt.Errorf("livekit: %s: %w", method, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("livekit: %s: %w", method, err)
	}
	if resp.StatusCode != http.StatusOK {
		te := &TwirpError{Status: resp.StatusCode}
		if json.Unmarshal(data, te) != nil || te.Code == "" {
			te.Code, te.Msg = "unknown", strings.TrimSpace(string(data))
		}
		return fmt.Errorf("%s: %w", method, te)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("livekit: %s: bad answer: %w", method, err)
	}
	return nil
}

// int64s are strings in protobuf's JSON; numbers are taken too.
type pbInt64 int64

func (n *pbInt64) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	*n = pbInt64(v)
	return err
}

// lkRoom is the part of LiveKit's Room that rathaus reads.
type lkRoom struct {
	SID             string  `json:"sid"`
	Name            string  `json:"name"`
	NumParticipants int     `json:"num_participants"`
	CreationTime    pbInt64 `json:"creation_time"`
}

// lkTrack is the part of LiveKit's TrackInfo that rathaus reads.
type lkTrack struct {
	SID    string `json:"sid"`
	Type   string `json:"type"`
	Source string `json:"source"`
	Muted  bool   `json:"muted"`
}

// lkParticipant is the part of LiveKit's ParticipantInfo that rathaus
// reads. Field names are the protobuf names (Twirp's JSON) and the
// camel-case ones (webhooks' JSON) both.
type lkParticipant struct {
	SID        string    `json:"sid"`
	Identity   string    `json:"identity"`
	State      string    `json:"state"`
	JoinedAt   pbInt64   `json:"joined_at"`
	JoinedAtC  pbInt64   `json:"joinedAt"`
	JoinedMs   pbInt64   `json:"joined_at_ms"`
	JoinedMsC  pbInt64   `json:"joinedAtMs"`
	Tracks     []lkTrack `json:"tracks"`
	Permission *struct {
		CanPublish   bool `json:"can_publish"`
		CanPublishC  bool `json:"canPublish"`
		CanSubscribe bool `json:"can_subscribe"`
	} `json:"permission"`
}

// mayPublish reports whether LiveKit lets the participant publish.
func (p lkParticipant) mayPublish() bool {
	return p.Permission != nil && (p.Permission.CanPublish || p.Permission.CanPublishC)
}

// joinedMs is when the participant joined, in Unix milliseconds (from
// the seconds on a LiveKit that has no milliseconds).
func (p lkParticipant) joinedMs() int64 {
	switch {
	case p.JoinedMs != 0:
		return int64(p.JoinedMs)
	case p.JoinedMsC != 0:
		return int64(p.JoinedMsC)
	}
	return p.joined().UnixMilli()
}

func (p lkParticipant) joined() time.Time {
	at := p.JoinedAt
	if at == 0 {
		at = p.JoinedAtC
	}
	if at == 0 {
		return time.Time{}
	}
	return time.Unix(int64(at), 0)
}

type createRoomRequest struct {
	Name string `json:"name"`
	// EmptyTimeout: seconds LiveKit keeps an empty room (rathaus deletes
	// rooms itself; this is the backstop).
	EmptyTimeout     uint32 `json:"empty_timeout"`
	DepartureTimeout uint32 `json:"departure_timeout"`
	MaxParticipants  uint32 `json:"max_participants"`
}

func (s *roomService) createRoom(ctx context.Context, req createRoomRequest) (lkRoom, error) {
	var room lkRoom
	err := s.call(ctx, "CreateRoom", "", req, &room)
	return room, err
}

func (s *roomService) deleteRoom(ctx context.Context, name string) error {
	return s.call(ctx, "DeleteRoom", name, map[string]string{"room": name}, nil)
}

func (s *roomService) listRooms(ctx context.Context, names []string) ([]lkRoom, error) {
	var out struct {
		Rooms []lkRoom `json:"rooms"`
	}
	err := s.call(ctx, "ListRooms", "", map[string][]string{"names": names}, &out)
	return out.Rooms, err
}

func (s *roomService) listParticipants(ctx context.Context, room string) ([]lkParticipant, error) {
	var out struct {
		Participants []lkParticipant `json:"participants"`
	}
	err := s.call(ctx, "ListParticipants", room, map[string]string{"room": room}, &out)
	return out.Participants, err
}

func (s *roomService) removeParticipant(ctx context.Context, room, identity string) error {
	return s.call(ctx, "RemoveParticipant", room, map[string]string{"room": room, "identity": identity}, nil)
}

// sendData sends a reliable data message to some participants of a room.
func (s *roomService) sendData(ctx context.Context, room, topic string, data []byte, identities []string) error {
	return s.call(ctx, "SendData", room, map[string]any{"room": room, "data": data, "kind": "RELIABLE",
		"destination_identities": identities, "topic": topic}, nil)
}
