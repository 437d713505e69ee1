package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Database configures the RDS PostgreSQL instance.
type Database struct {
	// EngineVersion is the PostgreSQL major version (14-18); RDS creates
	// the instance on that major's default minor and AutoMinorVersionUpgrade
	// keeps it current, so a minor AWS stops offering never breaks a new
	// environment. MAJOR.MINOR pins a minor instead, and is refused for
	// minors RDS no longer creates. A new major needs a new parameter group,
	// which the stack derives from it. Default "16".
	EngineVersion string
	// InstanceClass is the RDS instance class without the "db." prefix.
	// Default "t4g.micro" in dev, "m7g.large" in prod.
	InstanceClass string
	// AllocatedStorageGiB is the initial gp3 storage (20-16384). Default 20.
	AllocatedStorageGiB int
	// MaxAllocatedStorageGiB is the storage autoscaling limit
	// (AllocatedStorageGiB-16384). Default 50 in dev, 500 in prod.
	MaxAllocatedStorageGiB int
	// MultiAZ runs a synchronous standby in a second zone.
	// Default false in dev, true in prod.
	MultiAZ bool
	// DeletionProtection blocks deleting the instance; each environment
	// promises its value. Default false in dev, true in prod.
	DeletionProtection bool
	// BackupRetentionDays keeps automated backups (1-35; at least 14 where
	// DeletionProtection is on). Default 1 in dev, 14 in prod.
	BackupRetentionDays int
	// BackupWindow is the daily UTC backup window, hh:mm-hh:mm, at least 30
	// minutes, not overlapping MaintenanceWindow. Default "02:00-03:00".
	BackupWindow string
	// MaintenanceWindow is the weekly UTC maintenance window,
	// ddd:hh:mm-ddd:hh:mm, at least 30 minutes. Default "sun:03:30-sun:04:30".
	MaintenanceWindow string
	// MonitoringIntervalSeconds is the enhanced-monitoring interval, one of
	// 1, 5, 10, 15, 30, 60. Default 60 in dev, 15 in prod.
	MonitoringIntervalSeconds int
	// SlowStatementMillis logs statements slower than this (100-60000).
	// Default 500.
	SlowStatementMillis int
	// LogRetentionDays keeps the exported PostgreSQL logs; one of the values
	// CloudWatch Logs accepts. Default 14 in dev, 365 in prod.
	LogRetentionDays int
	// RotationDays rotates the master and the application passwords this
	// often (1-365).
	// Default 30.
	RotationDays int
	// DatabaseName is the database created on the instance. Default "app".
	DatabaseName string
	// Username is the master user name, for rotation and for people; the
	// application never receives it. Default "app_admin".
	Username string
	// AppUsername is the application's own user: a custom resource creates
	// it owning the schema of the same name in DatabaseName and nothing
	// else, and Secrets Manager rotates its password by alternating it
	// with AppUsername_clone, so the credentials running tasks hold stay
	// valid until the next rotation. Default "app".
	AppUsername string
}

var (
	postgresVersion = regexp.MustCompile(`^([0-9]{2})(?:\.([0-9]{1,2}))?$`)
	identifier      = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	monitoringSecs  = []int{1, 5, 10, 15, 30, 60}
	// PostgreSQL reserves these names for the master user.
	reservedUsers = []string{"postgres", "rdsadmin", "admin", "root", "public"}
)

// PostgresMajor returns the major version of Database.EngineVersion, such as
// "16"; it is meaningful only for a validated config.
func (d Database) PostgresMajor() string { return strings.SplitN(d.EngineVersion, ".", 2)[0] }

func (d Database) validateEngineVersion(v *validator) {
	const field = "Database.EngineVersion"
	m := postgresVersion.FindStringSubmatch(d.EngineVersion)
	if m == nil {
		v.add(field, d.EngineVersion, "a PostgreSQL major version RDS creates, such as 16, optionally with a minor: "+postgresVersionAllowed())
		return
	}
	known, ok := postgresMinors[m[1]]
	minor, _ := atoiOK(m[2])
	switch {
	case !ok:
		v.add(field, d.EngineVersion, "a PostgreSQL major version RDS creates in standard support: "+postgresVersionAllowed())
	case m[2] == "":
	case known.Oldest == 0:
		v.add(field, d.EngineVersion, fmt.Sprintf("the major version %s alone: no minor of it is known to be creatable, and RDS refuses deprecated minors", m[1]))
	case minor < known.Oldest:
		v.add(field, d.EngineVersion, fmt.Sprintf("the major version %[1]s alone, or %[1]s.%[2]d-%[1]s.%[3]d: RDS no longer creates instances on older minors", m[1], known.Oldest, known.Newest))
	case minor > known.Newest:
		v.add(field, d.EngineVersion, fmt.Sprintf("the major version %[1]s alone, or %[1]s.%[2]d-%[1]s.%[3]d: %[1]s.%[4]d is not a minor RDS is known to offer (lib/config/catalog.go lists the known ones and how to add one)", m[1], known.Oldest, known.Newest, minor))
	}
}

func (c Config) validateDatabase(v *validator) {
	d := c.Database
	d.validateEngineVersion(v)
	_, known := dbInstanceClasses[d.InstanceClass]
	v.check(known, "Database.InstanceClass", d.InstanceClass, fmt.Sprintf(
		"a current RDS instance class for PostgreSQL without the db. prefix, such as t4g.micro or m7g.large (families %s; lib/config/catalog.go lists the sizes and how to add one)",
		familiesOf(DBInstanceClasses())))
	v.check(d.AllocatedStorageGiB >= 20 && d.AllocatedStorageGiB <= 16384, "Database.AllocatedStorageGiB", d.AllocatedStorageGiB, "from 20 to 16384 (gp3)")
	v.check(d.MaxAllocatedStorageGiB >= d.AllocatedStorageGiB && d.MaxAllocatedStorageGiB <= 16384, "Database.MaxAllocatedStorageGiB", d.MaxAllocatedStorageGiB,
		fmt.Sprintf("from Database.AllocatedStorageGiB (%d) to 16384", d.AllocatedStorageGiB))
	minBackup := 1
	if d.DeletionProtection {
		minBackup = 14
	}
	v.check(d.BackupRetentionDays >= minBackup && d.BackupRetentionDays <= 35, "Database.BackupRetentionDays", d.BackupRetentionDays,
		fmt.Sprintf("from %d to 35 days (14 at least where DeletionProtection is on)", minBackup))
	backup, okB := parseDaily(v, "Database.BackupWindow", d.BackupWindow, 30)
	maint, okM := parseWeekly(v, "Database.MaintenanceWindow", d.MaintenanceWindow, 30)
	if okB && okM && dailyOverlapsWeekly(backup, maint) {
		v.add("Database.MaintenanceWindow", d.MaintenanceWindow, fmt.Sprintf("a window that does not overlap Database.BackupWindow (%s)", d.BackupWindow))
	}
	v.check(slices.Contains(monitoringSecs, d.MonitoringIntervalSeconds), "Database.MonitoringIntervalSeconds", d.MonitoringIntervalSeconds, fmt.Sprintf("one of %v", monitoringSecs))
	v.check(d.SlowStatementMillis >= 100 && d.SlowStatementMillis <= 60000, "Database.SlowStatementMillis", d.SlowStatementMillis, "from 100 to 60000")
	v.check(slices.Contains(RetentionDays, d.LogRetentionDays), "Database.LogRetentionDays", d.LogRetentionDays, fmt.Sprintf("one of %v", RetentionDays))
	v.check(d.RotationDays >= 1 && d.RotationDays <= 365, "Database.RotationDays", d.RotationDays, "from 1 to 365")
	v.check(identifier.MatchString(d.DatabaseName), "Database.DatabaseName", d.DatabaseName, "1-63 lowercase letters, digits or underscores, starting with a letter")
	v.check(identifier.MatchString(d.Username) && len(d.Username) <= 16 && !slices.Contains(reservedUsers, d.Username), "Database.Username", d.Username,
		fmt.Sprintf("1-16 lowercase letters, digits or underscores, starting with a letter, not one of %v", reservedUsers))
	v.check(identifier.MatchString(d.AppUsername) && len(d.AppUsername) <= 57 && !slices.Contains(reservedUsers, d.AppUsername) &&
		!strings.HasPrefix(d.AppUsername, "pg_") && !strings.HasPrefix(d.AppUsername, "rds") && d.AppUsername != d.Username, "Database.AppUsername", d.AppUsername,
		fmt.Sprintf("1-57 lowercase letters, digits or underscores (the rotation adds _clone), starting with a letter, not pg_... or rds..., not one of %v, and not Database.Username", reservedUsers))
}
