package dbusers

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dsnVar names the connection string of a PostgreSQL superuser for the
// tests; .ci/run starts a server and sets it.
const dsnVar = "PLATFORM_TEST_POSTGRES"

// server connects as the superuser, or skips (fails under CI=true) without
// a server.
func server(t *testing.T) (*pgx.Conn, *url.URL) {
	t.Helper()
	dsn := os.Getenv(dsnVar)
	hint := "install and start PostgreSQL (apt-get install postgresql; .ci/run does) and set " + dsnVar + " to a superuser's URL, such as postgres://platform_test:test@localhost:5432/postgres"
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI must test the database user against PostgreSQL: %s", hint)
		}
		t.Skip(hint)
	}
	u, err := url.Parse(dsn)
	require.NoError(t, err, dsnVar)
	conn, err := pgx.Connect(context.Background(), dsn)
	require.NoError(t, err, "%s: %s", dsnVar, hint)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn, u
}

// withUser is base with role, password and database.
func withUser(base *url.URL, role, password, database string) string {
	u := *base
	u.User = url.UserPassword(role, password)
	u.Path = "/" + database
	return u.String()
}

// as connects to database as role with password.
func as(t *testing.T, base *url.URL, role, password, database string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), withUser(base, role, password, database))
	require.NoError(t, err, "connecting as %s", role)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func exec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	_, err := conn.Exec(context.Background(), sql, args...)
	require.NoError(t, err, sql)
}

// TestApplicationUserHasWhatTheAppNeedsAndNothingElse sets the database
// up as RDS does (a master user with CREATEROLE and CREATEDB that is no
// superuser, owning the application's database, where another schema
// holds data), creates the application user as the master user, and
// checks what the user and its rotation clone can and cannot do.
func TestApplicationUserHasWhatTheAppNeedsAndNothingElse(t *testing.T) {
	ctx := context.Background()
	super, base := server(t)
	n := rand.IntN(1 << 30)
	master, db := fmt.Sprintf("master_%d", n), fmt.Sprintf("webapp_%d", n)
	user := User{Name: fmt.Sprintf("app_%d", n), Password: "first-Password-1", Database: db, Schema: "app"}
	exec(t, super, fmt.Sprintf("CREATE ROLE %s LOGIN CREATEROLE CREATEDB PASSWORD 'master-Password-1'", master))
	exec(t, super, fmt.Sprintf("CREATE DATABASE %s OWNER %s", db, master))
	t.Cleanup(func() {
		for _, s := range []string{"DROP DATABASE IF EXISTS " + db + " WITH (FORCE)", "DROP ROLE IF EXISTS " + user.Clone(), "DROP ROLE IF EXISTS " + user.Name, "DROP ROLE IF EXISTS " + master} {
			_, _ = super.Exec(ctx, s)
		}
	})
	admin := as(t, base, master, "master-Password-1", db)
	exec(t, admin, "CREATE SCHEMA billing")
	exec(t, admin, "CREATE TABLE billing.invoices (id int)")

	require.NoError(t, Ensure(ctx, admin, user))
	require.NoError(t, Ensure(ctx, admin, user), "a second run changes nothing and succeeds")

	app := as(t, base, user.Name, user.Password, db)
	// What the application needs: its own schema, searched first.
	exec(t, app, "CREATE TABLE orders (id int primary key)")
	exec(t, app, "INSERT INTO orders VALUES (1)")
	var schema string
	require.NoError(t, app.QueryRow(ctx, "SELECT schemaname FROM pg_tables WHERE tablename = 'orders'").Scan(&schema))
	assert.Equal(t, "app", schema)

	// What it must be refused.
	for _, sql := range []string{
		"CREATE ROLE intruder",
		"SELECT * FROM billing.invoices",
		"DROP DATABASE " + db,
		"CREATE DATABASE other",
		"CREATE TABLE public.leak (id int)",
		"ALTER ROLE " + user.Name + " CREATEDB",
		"GRANT rds_superuser TO " + user.Name,
	} {
		_, err := app.Exec(ctx, sql)
		assert.Error(t, err, "the application user may: %s", sql)
	}

	_, err := pgx.Connect(ctx, withUser(base, user.Clone(), user.Password, db))
	assert.Error(t, err, "the clone logs in with the user's password before any rotation gave it its own")

	// The alternating-users rotation sets the clone's password and hands
	// the clone out: it works on the same tables, and what it creates
	// belongs to the user.
	exec(t, admin, fmt.Sprintf("ALTER ROLE %s PASSWORD 'second-Password-2'", user.Clone()))
	clone := as(t, base, user.Clone(), "second-Password-2", db)
	exec(t, clone, "INSERT INTO orders VALUES (2)")
	exec(t, clone, "CREATE TABLE refunds (id int)")
	var owner string
	require.NoError(t, clone.QueryRow(ctx, "SELECT tableowner FROM pg_tables WHERE tablename = 'refunds'").Scan(&owner))
	assert.Equal(t, user.Name, owner, "the clone's tables belong to the user")
	_, err = clone.Exec(ctx, "SELECT * FROM billing.invoices")
	assert.Error(t, err, "the clone reads another schema")
	_, err = clone.Exec(ctx, "CREATE ROLE intruder")
	assert.Error(t, err, "the clone creates roles")

	// An administrator's attribute given by hand is taken away where the
	// master user can, and refused where only a superuser can.
	exec(t, super, fmt.Sprintf("ALTER ROLE %s CREATEDB", user.Name))
	require.NoError(t, Ensure(ctx, admin, user))
	exec(t, super, fmt.Sprintf("ALTER ROLE %s SUPERUSER", user.Name))
	err = Ensure(ctx, admin, user)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "role "+user.Name+" has SUPERUSER")
}

func TestUsersAreIdentifiers(t *testing.T) {
	for _, u := range []User{
		{Name: "App", Password: "x", Database: "webapp", Schema: "app"},
		{Name: "app; DROP", Password: "x", Database: "webapp", Schema: "app"},
		{Name: "app", Password: "", Database: "webapp", Schema: "app"},
		{Name: "app", Password: "x", Database: "web-app", Schema: "app"},
	} {
		assert.Error(t, u.validate(), "%+v", u)
	}
	assert.NoError(t, User{Name: "app", Password: "x", Database: "webapp", Schema: "app"}.validate())
}
