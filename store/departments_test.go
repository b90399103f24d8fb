package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"maunium.net/go/mautrix/id"

	"github.com/rathaus-de/rathaus/store"
)

func TestManagedRooms(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		got, err := s.GetManagedRoom(ctx, store.RoomStaff, "bauamt")
		require.NoError(t, err)
		assert.Nil(t, got)

		require.NoError(t, s.PutManagedRoom(ctx, store.RoomAuthoritySpace, "", "!a:hs"))
		require.NoError(t, s.PutManagedRoom(ctx, store.RoomStaff, "bauamt", "!b:hs"))
		require.NoError(t, s.SetManagedRoomArchived(ctx, store.RoomStaff, "bauamt", time.UnixMilli(1234)))
		got, err = s.GetManagedRoom(ctx, store.RoomStaff, "bauamt")
		require.NoError(t, err)
		assert.Equal(t, store.ManagedRoom{Kind: store.RoomStaff, Key: "bauamt", RoomID: "!b:hs", ArchivedAt: time.UnixMilli(1234)}, *got)

		// Putting again (a department back in the config) reactivates it.
		require.NoError(t, s.PutManagedRoom(ctx, store.RoomStaff, "bauamt", "!b:hs"))
		all, err := s.ListManagedRooms(ctx)
		require.NoError(t, err)
		assert.Equal(t, []store.ManagedRoom{
			{Kind: store.RoomAuthoritySpace, Key: "", RoomID: "!a:hs"},
			{Kind: store.RoomStaff, Key: "bauamt", RoomID: "!b:hs"},
		}, all)

		assert.Error(t, s.PutManagedRoom(ctx, store.RoomDepartmentSpace, "x", "!b:hs"), "a room belongs to one mapping")
	})
}

func TestStaffStatus(t *testing.T) {
	eachDialect(t, func(t *testing.T, open func() *store.Store) {
		ctx := context.Background()
		s := open()
		require.NoError(t, s.SetStaffStatus(ctx, "@anna:hs", store.StatusAvailable))
		require.NoError(t, s.SetStaffStatus(ctx, "@anna:hs", store.StatusBusy))
		require.NoError(t, s.SetStaffStatus(ctx, "@bernd:hs", store.StatusAway))
		assert.ErrorIs(t, s.SetStaffStatus(ctx, "@x:hs", "sleepy"), store.ErrInvalidValue)
		got, err := s.StaffStatuses(ctx)
		require.NoError(t, err)
		assert.Equal(t, map[id.UserID]store.StaffStatus{"@anna:hs": store.StatusBusy, "@bernd:hs": store.StatusAway}, got)
	})
}
