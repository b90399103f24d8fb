package appservice

import (
	"context"
	"fmt"
	"sync"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Room versions matter to rathaus in one place: from room version 12 on
// (MSC4289) a room's creators have unlimited power and must not appear in
// the power levels' users map, so every power level rathaus writes leaves
// them out. rathaus creates its rooms without naming a version, so it asks
// the homeserver which version that gives.

// Capabilities is what rathaus learned about its homeserver at start.
type Capabilities struct {
	mu             sync.RWMutex
	defaultVersion id.RoomVersion
}

// Load asks the homeserver (GET /capabilities) which room version new
// rooms get. A homeserver that does not say is taken to use a version
// without privileged creators.
func (c *Capabilities) Load(ctx context.Context, cli *mautrix.Client) error {
	resp, err := cli.Capabilities(ctx)
	if err != nil {
		return fmt.Errorf("failed to read the homeserver's capabilities: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.defaultVersion = ""
	if resp.RoomVersions != nil {
		c.defaultVersion = id.RoomVersion(resp.RoomVersions.Default)
	}
	return nil
}

// DefaultRoomVersion is the version of the rooms rathaus creates; "" until
// Load succeeded.
func (c *Capabilities) DefaultRoomVersion() id.RoomVersion {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.defaultVersion
}

// creatorsPrivileged reports whether a room version gives its creators
// unlimited power; an unknown version is taken not to.
func creatorsPrivileged(v id.RoomVersion) bool {
	return v.IsKnown() && v.PrivilegedRoomCreators()
}

// Creators returns the users with unlimited power in a room, as its state
// says: the creator and any additional creators, in room versions that
// privilege them; nil otherwise.
func Creators(state mautrix.RoomStateMap) []id.UserID {
	create := state[event.StateCreate][""]
	if create == nil {
		return nil
	}
	_ = create.Content.ParseRaw(event.StateCreate)
	content := create.Content.AsCreate()
	if !creatorsPrivileged(content.RoomVersion) {
		return nil
	}
	return append([]id.UserID{create.Sender}, content.AdditionalCreators...)
}

// withoutCreators returns users without the given creators (a copy when
// something is left out).
func withoutCreators(users map[id.UserID]int, creators []id.UserID) map[id.UserID]int {
	if len(creators) == 0 {
		return users
	}
	out := make(map[id.UserID]int, len(users))
	for u, pl := range users {
		out[u] = pl
	}
	for _, c := range creators {
		delete(out, c)
	}
	return out
}
