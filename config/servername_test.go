package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestValidateServerName(t *testing.T) {
	tests := []struct {
		name  string
		valid bool
	}{
		{"stadt.example", true},
		{"matrix.org", true},
		{"localhost", true},
		{"bad-beispielheim.de", true},
		{"Stadt.Example", true},
		{"stadt.example:8448", true},
		{"127.0.0.1", true},
		{"127.0.0.1:8448", true},
		{"[::1]", true},
		{"[::1]:8448", true},
		{"[2001:db8::1]:443", true},
		{"[::ffff:192.0.2.1]", true},
		{strings.Repeat("a", 63) + ".de", true},
		{"x:1", true},
		{"x:65535", true},

		{"", false},
		{"https://stadt.example", false},
		{"stadt.example/", false},
		{"stadt_example.de", false},
		{"stadt example.de", false},
		{"münchen.de", false},
		{".stadt.example", false},
		{"stadt.example.", false},
		{"stadt..example", false},
		{"-stadt.example", false},
		{"stadt-.example", false},
		{strings.Repeat("a", 64) + ".de", false},
		{strings.Repeat("a.", 127) + "de", false},
		{"stadt.example:", false},
		{"stadt.example:0", false},
		{"stadt.example:65536", false},
		{"stadt.example:123456", false},
		{"stadt.example:80a", false},
		{"stadt.example:80:80", false},
		{"999.1.1.1", false},
		{"1.2.3", false},
		{"::1", false},
		{"[::1", false},
		{"[::1]x", false},
		{"[::1]:", false},
		{"[127.0.0.1]", false},
		{"[fe80::1%eth0]", false},
		{"[zz::1]", false},
		{"@user:stadt.example", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateServerName(tc.name)
			if tc.valid {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

func TestIsExampleHost(t *testing.T) {
	assert.True(t, isExampleHost("stadt.example"))
	assert.True(t, isExampleHost("matrix.Stadt.EXAMPLE"))
	assert.True(t, isExampleHost("example"))
	// RFC 2606 also reserves these second-level names.
	assert.True(t, isExampleHost("example.com"))
	assert.True(t, isExampleHost("matrix.example.org"))
	assert.True(t, isExampleHost("example.net."))
	assert.False(t, isExampleHost("myexample.com"))
	assert.False(t, isExampleHost("example.com.de"))
	assert.False(t, isExampleHost("example.de"))
	assert.False(t, isExampleHost("stadt-example.de"))
	assert.False(t, isExampleHost("127.0.0.1"))
}
