package plaintext_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/rathaus-de/rathaus/internal/plaintext"
)

func TestText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Guten Tag", "Guten Tag"},
		{"CRLF and CR are one break", "a\r\nb\rc", "a\nb\nc"},
		{"line and paragraph separators, NEL, VT, FF", "a\u2028b\u2029c\u0085d\ve\ff", "a\nb\nc\nd\ne\nf"},
		{"NUL, BEL, ESC, DEL, C1 go", "a\x00b\x07c\x1b[31md\x7fe\u009bf", "abc[31mdef"},
		{"tab stays", "a\tb", "a\tb"},
		{"bidi overrides and isolates go", "Bescheid\u202Egnp.html \u2066x\u2069", "Bescheidgnp.html x"},
		{"LRM, RLM and ALM go too", "a\u200Fb\u200Ec\u061Cd", "abcd"},
		{"ZWJ in an emoji stays", "👩\u200D💻", "👩\u200D💻"},
		{"trimmed at both ends and line ends", "  \n a  \n b \t\n ", "a\n b"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
		{"NFC", "Mu\u0308ller", "Müller"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, plaintext.Text(tc.in)) })
	}
}

func TestLine(t *testing.T) {
	assert.Equal(t, "Maria Muster", plaintext.Line("  Maria \n\t Muster  ", 64))
	// Padding and overrides cannot push " (Gast)" out of sight.
	assert.Equal(t, "Anna Schmidt", plaintext.Line("Anna\u2003\u2003\u2003\u2003Schmidt\u202E\u200B\u200B", 64))
	assert.Equal(t, "ab", plaintext.Line("a\x00b", 0))
	assert.Equal(t, "abcde", plaintext.Line("abcdefgh", 5))
	assert.Equal(t, "abc", plaintext.Line("abc defgh", 4), "no trailing space at the cut")
	assert.Equal(t, "", plaintext.Line("\u200B\u3164 \n", 10))
	long := plaintext.Line(strings.Repeat("xy ", 100), 64)
	assert.Len(t, []rune(long), 64)
	assert.Equal(t, long, strings.TrimSpace(long))
}

func TestVisible(t *testing.T) {
	for _, s := range []string{"", " \n\t", "\u200B\u200B\u200B", "\u200C\u200D\u2060\uFEFF\u00AD", "\u3164\u2800", "\x00\x1b", "\u202E"} {
		assert.False(t, plaintext.Visible(s), "%q", s)
	}
	for _, s := range []string{"a", " ? ", "\u200Bx", "👍"} {
		assert.True(t, plaintext.Visible(s), "%q", s)
	}
}

func TestIndent(t *testing.T) {
	assert.Equal(t, "a\n    b\n    c", plaintext.Indent(plaintext.Text("a\r\nb\u2028c"), "    "))
}
