package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	postgresVersion = regexp.MustCompile(`^([0-9]{2})(?:\.([0-9]{1,2}))?$`)
	// postgresMajors are the PostgreSQL majors RDS creates new instances
	// on in standard support. 13 left standard support on 2026-02-28 and is
	// billed as Extended Support (RDS release calendar).
	postgresMajors = []string{"14", "15", "16", "17", "18"}
	// oldestCreatableMinor is, per major, the oldest minor RDS is known to
	// create: it refuses new instances on 14.14-14.17, 15.9-15.12, 16.5-16.8
	// and 17.1-17.4 since 2026-05-01 and upgrades them to these minors
	// (AWS notice of the RDS for PostgreSQL minor deprecation, 2026). A
	// pinned minor must be at least this; a major without an entry can be
	// pinned by major only.
	oldestCreatableMinor = map[string]int{"14": 20, "15": 15, "16": 11, "17": 7}
	// redisFamilies maps each Redis OSS version ElastiCache creates to its
	// parameter-group family.
	redisFamilies = map[string]string{"6.2": "redis6.x", "7.0": "redis7", "7.1": "redis7"}
	// Instance families RDS offers for PostgreSQL on Graviton and current
	// Intel generations; older generations are left out on purpose.
	dbInstanceClass = regexp.MustCompile(`^(t4g|t3|m6g|m6i|m7g|m7i|r6g|r6i|r7g|r7i)\.(micro|small|medium|large|xlarge|[1-9][0-9]?xlarge)$`)
	cacheNodeType   = regexp.MustCompile(`^cache\.(t4g|t3|m6g|m7g|r6g|r7g)\.(micro|small|medium|large|xlarge|[1-9][0-9]?xlarge)$`)
	identifier      = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	dailyWindow     = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-3]):([0-5][0-9])$`)
	weeklyWindow    = regexp.MustCompile(`^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):([0-5][0-9])-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):([0-5][0-9])$`)
	monitoringSecs  = []int{1, 5, 10, 15, 30, 60}
	// PostgreSQL reserves these names for the master user.
	reservedUsers = []string{"postgres", "rdsadmin", "admin", "root", "public"}
)

const (
	minutesPerDay  = 24 * 60
	minutesPerWeek = 7 * minutesPerDay
)

// PostgresMajor returns the major version of Database.EngineVersion, such as
// "16"; it is meaningful only for a validated config.
func (d Database) PostgresMajor() string { return strings.SplitN(d.EngineVersion, ".", 2)[0] }

// RedisFamily returns the parameter-group family of Cache.EngineVersion,
// such as "redis7" or "redis6.x"; it is meaningful only for a validated
// config.
func (c Cache) RedisFamily() string { return redisFamilies[c.EngineVersion] }

func (d Database) validateEngineVersion(v *validator) {
	m := postgresVersion.FindStringSubmatch(d.EngineVersion)
	majors := strings.Join(postgresMajors, ", ")
	switch {
	case m == nil || !slices.Contains(postgresMajors, m[1]):
		v.add("Database.EngineVersion", d.EngineVersion, fmt.Sprintf("a PostgreSQL major version RDS creates (%s), such as 16, optionally with a minor", majors))
	case m[2] == "":
	case oldestCreatableMinor[m[1]] == 0:
		v.add("Database.EngineVersion", d.EngineVersion, fmt.Sprintf("the major version %s alone: no minor of it is known to be creatable, and RDS refuses deprecated minors", m[1]))
	case atoi(m[2]) < oldestCreatableMinor[m[1]]:
		v.add("Database.EngineVersion", d.EngineVersion, fmt.Sprintf("the major version %[1]s alone, or %[1]s.%[2]d or later: RDS no longer creates instances on older minors", m[1], oldestCreatableMinor[m[1]]))
	}
}

func (c Config) validateDatabase(v *validator) {
	d := c.Database
	d.validateEngineVersion(v)
	v.check(dbInstanceClass.MatchString(d.InstanceClass), "Database.InstanceClass", d.InstanceClass,
		"a current RDS instance class without the db. prefix, such as t4g.micro or m7g.large")
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
}

func (c Config) validateCache(v *validator) {
	k := c.Cache
	versions := slices.Sorted(maps.Keys(redisFamilies))
	v.check(redisFamilies[k.EngineVersion] != "", "Cache.EngineVersion", k.EngineVersion, fmt.Sprintf("one of %v", versions))
	v.check(cacheNodeType.MatchString(k.NodeType), "Cache.NodeType", k.NodeType, "a current ElastiCache node type such as cache.t4g.micro or cache.r7g.large")
	v.check(k.Replicas >= 0 && k.Replicas <= 5, "Cache.Replicas", k.Replicas, "from 0 to 5")
	v.check(k.SnapshotRetentionDays >= 0 && k.SnapshotRetentionDays <= 35, "Cache.SnapshotRetentionDays", k.SnapshotRetentionDays, "from 0 to 35")
	snap, okS := parseDaily(v, "Cache.SnapshotWindow", k.SnapshotWindow, 60)
	maint, okM := parseWeekly(v, "Cache.MaintenanceWindow", k.MaintenanceWindow, 60)
	if okS && okM && dailyOverlapsWeekly(snap, maint) {
		v.add("Cache.MaintenanceWindow", k.MaintenanceWindow, fmt.Sprintf("a window that does not overlap Cache.SnapshotWindow (%s)", k.SnapshotWindow))
	}
	v.check(slices.Contains(RetentionDays, k.LogRetentionDays), "Cache.LogRetentionDays", k.LogRetentionDays, fmt.Sprintf("one of %v", RetentionDays))
}

// window is a span of minutes [start, end); end may pass the period's end
// when the window wraps around midnight or the end of the week.
type window struct{ start, end int }

func parseDaily(v *validator, field, s string, minMinutes int) (window, bool) {
	m := dailyWindow.FindStringSubmatch(s)
	if m == nil {
		v.add(field, s, "a daily UTC window hh:mm-hh:mm such as 02:00-03:00")
		return window{}, false
	}
	w := window{atoi(m[1])*60 + atoi(m[2]), atoi(m[3])*60 + atoi(m[4])}
	if w.end <= w.start {
		w.end += minutesPerDay
	}
	if w.end-w.start < minMinutes {
		v.add(field, s, fmt.Sprintf("a window of at least %d minutes", minMinutes))
		return window{}, false
	}
	return w, true
}

func parseWeekly(v *validator, field, s string, minMinutes int) (window, bool) {
	m := weeklyWindow.FindStringSubmatch(s)
	if m == nil {
		v.add(field, s, "a weekly UTC window ddd:hh:mm-ddd:hh:mm such as sun:03:30-sun:04:30")
		return window{}, false
	}
	days := []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	w := window{
		slices.Index(days, m[1])*minutesPerDay + atoi(m[2])*60 + atoi(m[3]),
		slices.Index(days, m[4])*minutesPerDay + atoi(m[5])*60 + atoi(m[6]),
	}
	if w.end <= w.start {
		w.end += minutesPerWeek
	}
	if w.end-w.start < minMinutes || w.end-w.start > minutesPerDay {
		v.add(field, s, fmt.Sprintf("a window from %d minutes to 24 hours long", minMinutes))
		return window{}, false
	}
	return w, true
}

// dailyOverlapsWeekly reports whether the daily window, repeated on every day
// of the week, meets the weekly window.
func dailyOverlapsWeekly(daily, weekly window) bool {
	for day := -1; day <= 7; day++ {
		s, e := daily.start+day*minutesPerDay, daily.end+day*minutesPerDay
		for _, shift := range []int{0, minutesPerWeek} {
			if s < weekly.end-shift && weekly.start-shift < e {
				return true
			}
		}
	}
	return false
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
