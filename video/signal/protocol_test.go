package signal

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeAcceptsWhatClientsSend(t *testing.T) {
	for _, raw := range []string{
		`{"type":"join","grant":"abc.def"}`,
		`{"type":"join","grant":"abc.def","description":{"type":"offer","sdp":"v=0\r\n"}}`,
		`{"type":"sdp","description":{"type":"answer","sdp":"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"}}`,
		`{"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host","sdpMid":"0"}}`,
		`{"type":"candidate","candidate":{"candidate":""}}`,
		`{"type":"mute","kind":"audio","muted":true}`,
		`{"type":"leave"}`,
		`{"type":"screen","stream":"{5d7c0e2a-8f0b-4a4c-9d0e-1f2a3b4c5d6e}"}`,
		`{"type":"ping"}`,
	} {
		_, err := Decode([]byte(raw))
		assert.NoError(t, err, raw)
	}
}

func TestDecodeRefuses(t *testing.T) {
	long := strings.Repeat("a", MaxMessageSize)
	for name, raw := range map[string]string{
		"not JSON":                    `{`,
		"two objects":                 `{"type":"ping"}{"type":"ping"}`,
		"unknown field":               `{"type":"ping","x":1}`,
		"no type":                     `{}`,
		"server type":                 `{"type":"joined"}`,
		"unknown type":                `{"type":"frobnicate"}`,
		"field of another type":       `{"type":"ping","grant":"x"}`,
		"join without grant":          `{"type":"join"}`,
		"join with an answer":         `{"type":"join","grant":"x","description":{"type":"answer","sdp":"v=0"}}`,
		"sdp pranswer":                `{"type":"sdp","description":{"type":"pranswer","sdp":"v=0"}}`,
		"sdp not SDP":                 `{"type":"sdp","description":{"type":"offer","sdp":"hello"}}`,
		"candidate without prefix":    `{"type":"candidate","candidate":{"candidate":"1 1 udp","sdpMid":"0"}}`,
		"candidate with a line break": `{"type":"candidate","candidate":{"candidate":"candidate:1\r\na=x","sdpMid":"0"}}`,
		"candidate without mid":       `{"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 1 typ host"}}`,
		"mute without muted":          `{"type":"mute","kind":"audio"}`,
		"mute of screen":              `{"type":"mute","kind":"screen","muted":true}`,
		"screen without stream":       `{"type":"screen"}`,
		"screen with a space":         `{"type":"screen","stream":"a b"}`,
		"over the size limit":         `{"type":"join","grant":"` + long + `"}`,
		"not UTF-8":                   "{\"type\":\"join\",\"grant\":\"\xff\"}",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Decode([]byte(raw))
			require.ErrorIs(t, err, ErrBadMessage)
		})
	}
}

func TestEncodeRoundTrips(t *testing.T) {
	muted := true
	raw, err := Encode(Message{Type: TypeMute, Kind: KindVideo, Muted: &muted})
	require.NoError(t, err)
	m, err := Decode(raw)
	require.NoError(t, err)
	assert.Equal(t, KindVideo, m.Kind)
	_, err = Encode(Message{Type: TypeError, Message: strings.Repeat("x", MaxMessageSize)})
	assert.Error(t, err)
	assert.Len(t, Error(ReasonBadMessage, strings.Repeat("x", 500)).Message, maxReason)
}

// FuzzDecode: no input makes Decode panic, and whatever it accepts has a
// client type and encodes again within the limit.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"type":"join","grant":"a.b"}`, `{"type":"sdp","description":{"type":"offer","sdp":"v=0"}}`,
		`{"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 1 ::1 9 typ host","sdpMLineIndex":0}}`,
		`{"type":"mute","kind":"video","muted":false}`, `{"type":"ping"}`, `[]`, `null`, `{"type":"join","grant":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Decode(raw)
		if err != nil {
			return
		}
		switch m.Type {
		case TypeJoin, TypeSDP, TypeCandidate, TypeMute, TypeLeave, TypePing, TypeScreen:
		default:
			t.Fatalf("accepted a %q message", m.Type)
		}
		if _, err := Encode(m); err != nil {
			t.Fatalf("an accepted message does not encode: %v", err)
		}
	})
}
