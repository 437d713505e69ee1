package dbusers

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDeleteLeavesTheUser: a stack deleted while its data is retained keeps
// the user; the delete answers with the resource's ID and reads nothing.
func TestDeleteLeavesTheUser(t *testing.T) {
	h := Handler{Read: func(context.Context, string) (string, error) {
		t.Fatal("a delete reads no secret")
		return "", nil
	}}
	var e Event
	e.RequestType, e.PhysicalResourceId = "Delete", "database-user:app"
	got, err := h.Handle(context.Background(), e)
	require.NoError(t, err)
	assert.Equal(t, "database-user:app", got.PhysicalResourceId)
}

// TestCreateOutlastsAMasterRotation: the master secret's first read still
// holds the password a running rotation has just replaced in the database;
// the handler reads it again and creates the user, as the master user of a
// real PostgreSQL, from the secrets' JSON as the attachment writes it.
func TestCreateOutlastsAMasterRotation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	super, base := server(t)
	n := rand.IntN(1 << 30)
	master, db, name := fmt.Sprintf("master_%d", n), fmt.Sprintf("webapp_%d", n), fmt.Sprintf("app_%d", n)
	exec(t, super, fmt.Sprintf("CREATE ROLE %s LOGIN CREATEROLE CREATEDB PASSWORD 'rotated-Password-2'", master))
	exec(t, super, fmt.Sprintf("CREATE DATABASE %s OWNER %s", db, master))
	t.Cleanup(func() {
		for _, s := range []string{"DROP DATABASE IF EXISTS " + db + " WITH (FORCE)", "DROP ROLE IF EXISTS " + name + "_clone", "DROP ROLE IF EXISTS " + name, "DROP ROLE IF EXISTS " + master} {
			_, _ = super.Exec(context.Background(), s)
		}
	})
	attached := func(user, password string) string {
		host, port := base.Hostname(), base.Port()
		if port == "" {
			port = "5432"
		}
		b, err := json.Marshal(map[string]any{"engine": "postgres", "host": host, "port": json.Number(port), "dbname": db, "username": user, "password": password})
		require.NoError(t, err)
		return string(b)
	}
	masterReads := 0
	h := Handler{SSLMode: sslModeOf(base), Retry: 10 * time.Millisecond, Read: func(_ context.Context, arn string) (string, error) {
		if arn == "app" {
			return attached(name, "app-Password-1"), nil
		}
		masterReads++
		if masterReads == 1 {
			return attached(master, "stale-Password-1"), nil
		}
		return attached(master, "rotated-Password-2"), nil
	}}
	var e Event
	e.RequestType = "Create"
	e.ResourceProperties.MasterSecretArn, e.ResourceProperties.AppSecretArn, e.ResourceProperties.UserName = "master", "app", name
	got, err := h.Handle(ctx, e)
	require.NoError(t, err)
	assert.Equal(t, "database-user:"+name, got.PhysicalResourceId)
	assert.Equal(t, 2, masterReads, "the refused password is read again")
	as(t, base, name, "app-Password-1", db)

	// A password that stays wrong ends with the context, not in a loop.
	short, cancelShort := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancelShort()
	h.Retry = 500 * time.Millisecond
	h.Read = func(_ context.Context, arn string) (string, error) { return attached(master, "never-Right-1"), nil }
	_, err = h.Handle(short, e)
	assert.ErrorContains(t, err, "still refused")
}

// sslModeOf keeps the test server's sslmode (local servers often have no
// TLS); the function uses require against RDS.
func sslModeOf(u *url.URL) string {
	if m := u.Query().Get("sslmode"); m != "" {
		return m
	}
	return "prefer"
}
