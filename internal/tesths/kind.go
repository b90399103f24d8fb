package tesths

import (
	"fmt"
	"testing"

	"github.com/rathaus-de/rathaus/internal/devhs"
)

// Kind names a homeserver implementation: Dendrite or Synapse.
type Kind = devhs.Kind

const (
	// Dendrite is the pinned Dendrite (tools/dendrite), see DendriteBinary.
	Dendrite = devhs.Dendrite
	// Synapse is the pinned Synapse (tools/synapse), see SynapsePython.
	Synapse = devhs.Synapse
)

// DefaultRoomVersion is the room version of rooms created without one,
// unless Options.RoomVersion says otherwise. It is pinned so that both
// homeservers agree and a new homeserver release does not change the tests
// under our feet: Dendrite v0.15.2 defaults to 10, Synapse 1.163 to 12.
const DefaultRoomVersion = "11"

// Kinds returns every kind, in the order tests run them.
func Kinds() []Kind {
	return []Kind{Dendrite, Synapse}
}

// program returns what runs a homeserver of kind: the Dendrite binary, or
// Synapse's python and its database template (which may be "").
func program(tb testing.TB, kind Kind) (binary, template string, err error) {
	tb.Helper()
	switch kind {
	case Dendrite:
		binary, err = dendriteBinary(tb)
		return binary, "", err
	case Synapse:
		if binary, err = synapsePython(tb); err != nil {
			return "", "", err
		}
		template, err = synapseTemplate(tb, binary)
		return binary, template, err
	}
	return "", "", fmt.Errorf("unknown homeserver kind %q", kind)
}
