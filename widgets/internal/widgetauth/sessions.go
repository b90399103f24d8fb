package widgetauth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sync"
	"time"

	"maunium.net/go/mautrix/id"
)

// tokenBytes is the size of a session token: 256 bits of randomness.
const tokenBytes = 32

// tokenLength is the length of a session token in base64url without
// padding.
var tokenLength = base64.RawURLEncoding.EncodedLen(tokenBytes)

// tokenHash is what the session table keys on; the token itself is handed
// to the widget and forgotten. A lookup by hash reveals nothing useful by
// its timing: learning a hash does not give a token.
type tokenHash [sha256.Size]byte

func hashToken(token string) tokenHash { return sha256.Sum256([]byte(token)) }

// newToken returns a fresh session token.
func newToken() (string, error) {
	raw := make([]byte, tokenBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("failed to generate session token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

// Session is a signed-in widget user in one room. Require puts it into the
// request's context (FromContext).
type Session struct {
	User id.UserID
	Room id.RoomID
	// Expires is when the session ends; using it does not extend it.
	Expires time.Time
	// PowerLevel is the user's power level as checked for this request.
	PowerLevel int
}

// sessions is the in-memory session table, capped in total and per user.
type sessions struct {
	max     int
	perUser int
	now     func() time.Time

	mu     sync.Mutex
	byHash map[tokenHash]*Session
	byUser map[id.UserID][]tokenHash // oldest first
}

func newSessions(maxSessions, perUser int, now func() time.Time) *sessions {
	return &sessions{max: maxSessions, perUser: perUser, now: now,
		byHash: make(map[tokenHash]*Session), byUser: make(map[id.UserID][]tokenHash)}
}

// add stores a session for user in room and returns its token. When the
// user has perUser sessions, their oldest ends; when the table is full,
// expired sessions are dropped and then the one that would end first. A
// dropped widget just signs in again, so the cap never refuses a sign-in.
func (s *sessions) add(user id.UserID, room id.RoomID, ttl time.Duration) (string, Session, error) {
	token, err := newToken()
	if err != nil {
		return "", Session{}, err
	}
	h := hashToken(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	sess := &Session{User: user, Room: room, Expires: now.Add(ttl)}
	for len(s.byUser[user]) >= s.perUser {
		s.removeLocked(s.byUser[user][0])
	}
	if len(s.byHash) >= s.max {
		s.pruneLocked(now)
	}
	for len(s.byHash) >= s.max {
		s.removeLocked(s.soonestLocked())
	}
	s.byHash[h] = sess
	s.byUser[user] = append(s.byUser[user], h)
	return token, *sess, nil
}

// get returns the live session of token.
func (s *sessions) get(token string) (Session, bool) {
	if len(token) != tokenLength {
		return Session{}, false
	}
	h := hashToken(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.byHash[h]
	if !ok {
		return Session{}, false
	}
	if !s.now().Before(sess.Expires) {
		s.removeLocked(h)
		return Session{}, false
	}
	return *sess, true
}

// remove ends the session of token, if any.
func (s *sessions) remove(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeLocked(hashToken(token))
}

// len is the number of sessions held, expired ones included.
func (s *sessions) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byHash)
}

// prune drops expired sessions.
func (s *sessions) prune() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(s.now())
}

func (s *sessions) pruneLocked(now time.Time) {
	for h, sess := range s.byHash {
		if !now.Before(sess.Expires) {
			s.removeLocked(h)
		}
	}
}

// soonestLocked returns the hash of the session that ends first. Linear,
// but only reached when the table is full of live sessions.
func (s *sessions) soonestLocked() tokenHash {
	var (
		best    tokenHash
		bestEnd time.Time
		found   bool
	)
	for h, sess := range s.byHash {
		if !found || sess.Expires.Before(bestEnd) {
			best, bestEnd, found = h, sess.Expires, true
		}
	}
	return best
}

func (s *sessions) removeLocked(h tokenHash) {
	sess, ok := s.byHash[h]
	if !ok {
		return
	}
	delete(s.byHash, h)
	hs := s.byUser[sess.User]
	for i, x := range hs {
		if x == h {
			hs = append(hs[:i], hs[i+1:]...)
			break
		}
	}
	if len(hs) == 0 {
		delete(s.byUser, sess.User)
	} else {
		s.byUser[sess.User] = hs
	}
}
