// Package plaintext makes text from outside (a citizen's message or name,
// a Matrix event's body) safe to store and to show as plain text: valid
// UTF-8 in NFC, one kind of line break, and none of the characters that
// forge lines, move text around or hide it. It is the one place rathaus
// decides what a text may contain; every channel and the case timeline
// use it, so a rule holds everywhere at once.
package plaintext

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Text normalises multi-line text:
//   - invalid UTF-8 becomes U+FFFD, and the text is NFC;
//   - CR LF, CR, NEL, VT, FF, LINE SEPARATOR and PARAGRAPH SEPARATOR
//     become "\n", the only line break left;
//   - other control characters (NUL, BEL, ESC, DEL, C1) are removed, tab
//     stays;
//   - bidi controls (embeddings, overrides, isolates and the marks LRM,
//     RLM, ALM) are removed: they can make a text read differently from
//     what it is ("Bescheid\u202Egnp.html");
//   - whitespace at the start and end of the text and at line ends is
//     trimmed.
func Text(s string) string {
	s = norm.NFC.String(strings.ToValidUTF8(s, "\uFFFD"))
	var b strings.Builder
	b.Grow(len(s))
	prevCR := false
	for _, r := range s {
		cr := r == '\r'
		switch {
		case cr:
			b.WriteByte('\n')
		case r == '\n':
			if !prevCR {
				b.WriteByte('\n')
			}
		case isLineBreak(r):
			b.WriteByte('\n')
		case r == '\t':
			b.WriteRune(r)
		case unicode.IsControl(r), isBidiControl(r):
			// dropped
		default:
			b.WriteRune(r)
		}
		prevCR = cr
	}
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	return strings.TrimFunc(strings.Join(lines, "\n"), unicode.IsSpace)
}

// Line is Text on one line, for names and labels: every run of
// whitespace and line breaks is one space, control and invisible
// characters are removed, and the result is at most max runes long
// (max <= 0: no limit), cut before a space rather than after it. Padding or a bidi
// override can therefore not hide what is shown after it.
func Line(s string, max int) string {
	s = norm.NFC.String(strings.ToValidUTF8(s, "\uFFFD"))
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		} else if unicode.IsControl(r) || invisible(r) {
			continue
		}
		if max > 0 && n >= max {
			break
		}
		if space {
			if max > 0 && n+1 >= max {
				break
			}
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// Visible reports whether s shows anything: not only whitespace and
// invisible characters (zero-width spaces and joiners, word joiner, BOM,
// soft hyphen, Hangul fillers, the blank Braille pattern).
func Visible(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) && !unicode.IsControl(r) && !invisible(r) && r != utf8RuneError {
			return true
		}
	}
	return false
}

const utf8RuneError = '\uFFFD'

// Indent puts prefix before every line of text but the first, so that a
// continuation line can never look like a line of its own (a transcript's
// "[time] sender:" lines). text should come from Text.
func Indent(text, prefix string) string {
	return strings.ReplaceAll(text, "\n", "\n"+prefix)
}

func isLineBreak(r rune) bool {
	switch r {
	case '\u0085', '\v', '\f', '\u2028', '\u2029':
		return true
	}
	return false
}

func isBidiControl(r rune) bool {
	return unicode.Is(unicode.Bidi_Control, r)
}

// invisible reports whether r is a format character (Cf: zero-width
// spaces and joiners, bidi marks, soft hyphen, BOM) or a character that
// renders as blank although it is not whitespace.
func invisible(r rune) bool {
	switch r {
	case '\u115F', '\u1160', '\u3164', '\uFFA0', '\u2800', '\u180E':
		return true
	}
	return unicode.Is(unicode.Cf, r)
}
