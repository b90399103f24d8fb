package ozg

import (
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/rathaus-de/rathaus/internal/plaintext"
	"github.com/rathaus-de/rathaus/protocol"
)

// The claims of a hand-over context and their limits (docs/ozg.md has the
// table). Claims rathaus does not know are ignored; only the fields below
// are kept, and each has a length limit, so form contents have no place
// to go.
const (
	// MaxLifetime is the longest exp - iat rathaus accepts.
	MaxLifetime = 10 * time.Minute
	// ClockSkew is how far the service's clock may be off from rathaus's.
	ClockSkew = time.Minute
	// MaxStepLength bounds step, in Unicode code points.
	MaxStepLength = 80
)

var (
	leikaRegex   = regexp.MustCompile(`^[0-9]{14}$`)
	arsRegex     = regexp.MustCompile(`^[0-9]{12}$`)
	versionRegex = regexp.MustCompile(`^[A-Za-z0-9._+-]{1,32}$`)
	errCodeRegex = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,32}$`)
	jtiRegex     = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)
	// uuidRegex is a FIT-Connect id: a UUID in its canonical form.
	uuidRegex = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// Claims are the verified claims of a context.
type Claims struct {
	// Leika is the LeiKa key of the service (14 digits); it routes the case.
	Leika string
	// ARS is the Amtlicher Regionalschlüssel (12 digits), or "".
	ARS string
	// ServiceID and ServiceVersion come from the svc claim; ServiceID
	// equals the header's kid.
	ServiceID, ServiceVersion string
	// Step is where in the service the citizen asked for help (one line).
	Step string
	// Err is the code of the error the citizen saw, or "".
	Err string
	// Lang is "de" or "en" (default "de").
	Lang string
	// Trust is the trust level of the citizen's sign-in (default none).
	Trust protocol.TrustLevel
	// FITConnect holds the submission, destination and case ids, or "".
	FITConnect protocol.FITConnectIDs
	IssuedAt   time.Time
	Expires    time.Time
	// JTI is the context's unique id (16–64 of A-Z a-z 0-9 _ -).
	JTI string
}

// parseClaims reads and checks the claims' forms and lengths; times are
// checked by the verifier. No error names a claim's value.
func parseClaims(payload []byte) (*Claims, error) {
	obj, err := decodeObject(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrMalformed, err)
	}
	c := &Claims{}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: claim "+format, append([]any{ErrMalformed}, args...)...)
	}
	// text reads an optional string claim and checks it against re
	// (required: it must be present).
	text := func(key string, re *regexp.Regexp, required bool) (string, error) {
		v, present, ok := obj.str(key)
		switch {
		case !ok:
			return "", bad("%s must be a string", key)
		case !present && required:
			return "", bad("%s is required", key)
		case present && re != nil && !re.MatchString(v):
			return "", bad("%s has the wrong form or length", key)
		}
		return v, nil
	}
	if c.Leika, err = text("leika", leikaRegex, true); err != nil {
		return nil, err
	}
	if c.ARS, err = text("ars", arsRegex, false); err != nil {
		return nil, err
	}
	if c.Err, err = text("err", errCodeRegex, false); err != nil {
		return nil, err
	}
	if c.JTI, err = text("jti", jtiRegex, true); err != nil {
		return nil, err
	}
	for key, dst := range map[string]*string{"submission": &c.FITConnect.Submission,
		"destination": &c.FITConnect.Destination, "case": &c.FITConnect.Case} {
		if *dst, err = text(key, uuidRegex, false); err != nil {
			return nil, err
		}
	}
	step, err := text("step", nil, false)
	if err != nil {
		return nil, err
	} else if utf8.RuneCountInString(step) > MaxStepLength {
		return nil, bad("step is longer than %d characters", MaxStepLength)
	}
	// One line without control, bidi or invisible characters: it is shown
	// to the citizen and to staff.
	c.Step = plaintext.Line(step, MaxStepLength)

	lang, err := text("lang", nil, false)
	switch {
	case err != nil:
		return nil, err
	case lang == "":
		c.Lang = "de"
	case lang == "de" || lang == "en":
		c.Lang = lang
	default:
		return nil, bad("lang must be de or en")
	}
	trust, err := text("trust", nil, false)
	switch {
	case err != nil:
		return nil, err
	case trust == "":
		c.Trust = protocol.TrustNone
	case protocol.TrustLevel(trust).Valid():
		c.Trust = protocol.TrustLevel(trust)
	default:
		return nil, bad("trust must be one of none, basis, substanziell, hoch")
	}

	svcRaw, ok := obj["svc"]
	if !ok {
		return nil, bad("svc is required")
	}
	svc, err := decodeObject(svcRaw)
	if err != nil {
		return nil, bad("svc must be an object {\"id\", \"version\"}")
	}
	var present bool
	if c.ServiceID, present, ok = svc.str("id"); !ok || !present {
		return nil, bad("svc.id is required")
	}
	if c.ServiceVersion, present, ok = svc.str("version"); !ok || (present && !versionRegex.MatchString(c.ServiceVersion)) {
		return nil, bad("svc.version has the wrong form or length")
	}

	iat, present, ok := obj.integer("iat")
	if !ok || !present {
		return nil, bad("iat must be a whole number of seconds")
	}
	exp, present, ok := obj.integer("exp")
	if !ok || !present {
		return nil, bad("exp must be a whole number of seconds")
	}
	if exp <= iat {
		return nil, bad("exp is not after iat")
	} else if exp-iat > int64(MaxLifetime/time.Second) {
		return nil, bad("exp is more than %s after iat", MaxLifetime)
	}
	c.IssuedAt, c.Expires = time.Unix(iat, 0), time.Unix(exp, 0)
	return c, nil
}
