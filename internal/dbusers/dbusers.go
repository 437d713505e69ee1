// Package dbusers gives the application its own PostgreSQL identity: a
// login role that owns one schema of the application's database and can
// do nothing else (no superuser, no CREATEROLE, no CREATEDB, no
// rds_superuser), and its twin for Secrets Manager's alternating-users
// rotation. It runs as the RDS master user, which holds CREATEROLE but is
// no superuser, so it never sets an attribute only a superuser may set:
// new roles are created without them, and an existing role that has one is
// refused, not altered.
package dbusers

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
)

// User is the application's identity in one database.
type User struct {
	// Name is the role the application logs in as (the secret's username).
	Name string
	// Password is set when the role is created; a role that exists keeps
	// its password, which rotation owns from then on.
	Password string
	// Database is the application's database; Schema the schema the role
	// owns there and searches first.
	Database, Schema string
}

// Clone is the role the alternating-users rotation takes turns with: the
// hosted rotation function names it after the user with "_clone" and
// changes its password when it exists (Secrets Manager User Guide,
// rotating-secrets_strategies, alternating users).
func (u User) Clone() string { return u.Name + "_clone" }

var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func (u User) validate() error {
	var errs []error
	for what, v := range map[string]string{"user": u.Name, "database": u.Database, "schema": u.Schema} {
		if !identifier.MatchString(v) {
			errs = append(errs, fmt.Errorf("%s %q: want a lowercase PostgreSQL identifier", what, v))
		}
	}
	if len(u.Clone()) > 63 {
		errs = append(errs, fmt.Errorf("user %q: its clone %q is longer than PostgreSQL's 63 bytes", u.Name, u.Clone()))
	}
	if u.Password == "" {
		errs = append(errs, errors.New("no password"))
	}
	return errors.Join(errs...)
}

// Ensure makes u exist with exactly the application's privileges, and its
// clone as a member of it whose sessions act as u (so what either creates
// belongs to u). It is idempotent: run again, it changes nothing that is
// right and corrects grants that drifted; it never drops anything.
func Ensure(ctx context.Context, conn *pgx.Conn, u User) error {
	if err := u.validate(); err != nil {
		return err
	}
	q := func(format string, args ...string) string {
		quoted := make([]any, len(args))
		for i, a := range args {
			quoted[i] = pgx.Identifier{a}.Sanitize()
		}
		return fmt.Sprintf(format, quoted...)
	}
	for _, role := range []string{u.Name, u.Clone()} {
		exists, err := roleExists(ctx, conn, role)
		if err != nil {
			return err
		}
		if !exists {
			// The password is a literal in DDL; format's %L quotes it
			// on the server. The clone has none until the first rotation
			// gives it its own, so no two roles share a password.
			var create string
			password := any(u.Password)
			if role == u.Clone() {
				password = nil
			}
			if err := conn.QueryRow(ctx, "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)", role, password).Scan(&create); err != nil {
				return err
			}
			if _, err := conn.Exec(ctx, create); err != nil {
				return fmt.Errorf("creating role %s: %w", role, err)
			}
		}
		// What only a superuser can take away is refused first; the master
		// user could not even alter such a role.
		if err := check(ctx, conn, role, "rolsuper", "rolreplication", "rolbypassrls"); err != nil {
			return err
		}
		if _, err := conn.Exec(ctx, q("ALTER ROLE %s LOGIN NOCREATEDB NOCREATEROLE INHERIT", role)); err != nil {
			return fmt.Errorf("role %s: %w", role, err)
		}
	}
	statements := []string{
		// The master user (CREATEROLE, no superuser) may give the schema
		// to the user only as a member of it.
		q("GRANT %s TO CURRENT_USER", u.Name),
		q("GRANT %s TO %s", u.Name, u.Clone()),
		// Sessions of the clone act as the user: tables either creates
		// belong to the user, so the rotation never splits ownership.
		q("ALTER ROLE %s SET role = %s", u.Clone(), u.Name),
		q("GRANT CONNECT ON DATABASE %s TO %s", u.Database, u.Name),
		q("CREATE SCHEMA IF NOT EXISTS %s AUTHORIZATION %s", u.Schema, u.Name),
		q("ALTER SCHEMA %s OWNER TO %s", u.Schema, u.Name),
		q("ALTER ROLE %s SET search_path = %s", u.Name, u.Schema),
		q("ALTER ROLE %s SET search_path = %s", u.Clone(), u.Schema),
		// PostgreSQL 15 no longer lets everyone create in public; older
		// majors still do.
		"REVOKE CREATE ON SCHEMA public FROM PUBLIC",
	}
	for _, s := range statements {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	// RDS's administrative role, granted by hand at some point, would make
	// the application an administrator.
	for _, role := range []string{u.Name, u.Clone()} {
		var member bool
		err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member
			WHERE g.rolname = 'rds_superuser' AND r.rolname = $1)`, role).Scan(&member)
		if err != nil {
			return err
		}
		if member {
			if _, err := conn.Exec(ctx, q("REVOKE rds_superuser FROM %s", role)); err != nil {
				return fmt.Errorf("role %s is a member of rds_superuser and could not be removed: %w", role, err)
			}
		}
	}
	return Check(ctx, conn, u)
}

// Check refuses a user or clone with an attribute only an administrator
// should have.
func Check(ctx context.Context, conn *pgx.Conn, u User) error {
	var errs []error
	for _, role := range []string{u.Name, u.Clone()} {
		errs = append(errs, check(ctx, conn, role, "rolsuper", "rolreplication", "rolbypassrls", "rolcreaterole", "rolcreatedb"))
	}
	return errors.Join(errs...)
}

// attributes name pg_roles' columns as ALTER ROLE spells them.
var attributes = map[string]string{"rolsuper": "SUPERUSER", "rolreplication": "REPLICATION", "rolbypassrls": "BYPASSRLS", "rolcreaterole": "CREATEROLE", "rolcreatedb": "CREATEDB"}

func check(ctx context.Context, conn *pgx.Conn, role string, columns ...string) error {
	var has []string
	for _, c := range columns {
		var on bool
		if err := conn.QueryRow(ctx, "SELECT "+c+" FROM pg_roles WHERE rolname = $1", role).Scan(&on); err != nil {
			return fmt.Errorf("role %s: %w", role, err)
		}
		if on {
			has = append(has, attributes[c])
		}
	}
	if len(has) == 0 {
		return nil
	}
	return fmt.Errorf("role %s has %s, which only an administrator should have: ALTER ROLE %s NO%s as a superuser",
		role, strings.Join(has, ", "), role, strings.Join(has, " NO"))
}

func roleExists(ctx context.Context, conn *pgx.Conn, role string) (bool, error) {
	var exists bool
	err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", role).Scan(&exists)
	return exists, err
}
