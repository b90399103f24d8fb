package modroot_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rathaus-de/rathaus/internal/modroot"
)

func TestFind(t *testing.T) {
	root, err := modroot.Find()
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(root, "go.mod"))
	assert.FileExists(t, filepath.Join(root, "Makefile"))

	t.Chdir(os.TempDir())
	_, err = modroot.Find()
	assert.ErrorIs(t, err, modroot.ErrNotFound)
}
