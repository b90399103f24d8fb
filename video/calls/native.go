package calls

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/cases"
	"github.com/rathaus-de/rathaus/video"
	"github.com/rathaus-de/rathaus/video/livekit"
	"github.com/rathaus-de/rathaus/video/matrixrtc"
)

// Calls placed from a Matrix client (Element's call button) meet the
// citizen in LiveKit: the MatrixRTC authorization service (video/matrixrtc)
// asks NativeJoin, and the LiveKit backend names a case's call's room as
// Element Call does (LiveKitRoom), so both land in one room.

var _ matrixrtc.Calls = (*Service)(nil)

// NativeJoin starts the room's call for a caseworker joining from their
// own Matrix client (the same policy as the staff page) and returns it.
// Only the room's main call (matrixrtc.MainSlot) runs through rathaus.
func (s *Service) NativeJoin(ctx context.Context, room id.RoomID, slot string, user id.UserID) (video.CallID, error) {
	c, err := s.staffCase(ctx, room, user)
	switch {
	case errors.Is(err, cases.ErrNotCaseRoom):
		return "", fmt.Errorf("%w: %w", matrixrtc.ErrNotCallRoom, err)
	case errors.Is(err, cases.ErrNotCaseStaff):
		return "", fmt.Errorf("%w: %w", video.ErrNotStaff, err)
	case err != nil:
		return "", err
	}
	if slot != matrixrtc.MainSlot {
		return "", matrixrtc.ErrSlot
	}
	st, err := s.ensureRunning(ctx, c, user, "")
	if err != nil {
		return "", err
	}
	return st.id, nil
}

// LiveKitRoom is the LiveKit room of a call: the one Element Call
// computes for the case room's main slot. The call must have been
// started (EnsureCall follows the start).
func (s *Service) LiveKitRoom(call video.CallID) (string, error) {
	st := s.existing(call)
	if st == nil {
		return "", video.ErrNoCall
	}
	return livekit.RoomAlias(st.room.String(), matrixrtc.MainSlot), nil
}

// MayStay is asked when LiveKit reports a participant joined: the
// citizen only while admitted, a caseworker (any of their devices,
// "@user:server:DEVICE") only while on the case's team and joined to its
// room with the handling power level. Anybody else holding a token of
// the room (minted before a kick, or for another identity) is removed.
func (s *Service) MayStay(ctx context.Context, call video.CallID, identity string) bool {
	st := s.existing(call)
	if st == nil || !s.isRunning(st) {
		return false
	}
	if video.Identity(identity) == CitizenIdentity {
		k, ok := s.lobby.Status(call, CitizenIdentity)
		return ok && k.State == video.KnockAdmitted
	}
	for _, user := range usersOf(identity) {
		if c, err := s.staffCase(ctx, st.room, user); err == nil && CallID(c.ID) == call {
			return true
		}
	}
	return false
}

// usersOf are the Matrix users a LiveKit identity may stand for: the
// identity itself (rathaus's staff page), and the identity without its
// last ":…" (Element Call's "@user:server:DEVICE"; device ids have no
// colon). Both can be valid user ids when the server name has a port.
func usersOf(identity string) []id.UserID {
	var out []id.UserID
	if !strings.HasPrefix(identity, "@") {
		return nil
	}
	candidates := []string{identity}
	if i := strings.LastIndexByte(identity, ':'); i > 0 {
		candidates = append(candidates, identity[:i])
	}
	for _, c := range candidates {
		u := id.UserID(c)
		if _, _, err := u.ParseAndValidateRelaxed(); err == nil {
			out = append(out, u)
		}
	}
	return out
}
