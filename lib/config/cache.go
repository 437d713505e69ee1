package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
)

// Cache configures the ElastiCache Redis replication group.
type Cache struct {
	// EngineVersion pins Redis OSS as MAJOR.MINOR (6.2, 7.0 or 7.1); it
	// decides the parameter-group family (redis6.x, redis7). Default "7.1".
	EngineVersion string
	// NodeType is the ElastiCache node type.
	// Default "cache.t4g.micro" in dev, "cache.r7g.large" in prod.
	NodeType string
	// Replicas is the number of read replicas (0-5); with at least one,
	// automatic failover and Multi-AZ are on. Default 0 in dev, 1 in prod.
	Replicas int
	// SnapshotRetentionDays keeps daily snapshots (0-35).
	// Default 1 in dev, 7 in prod.
	SnapshotRetentionDays int
	// SnapshotWindow is the daily UTC snapshot window, hh:mm-hh:mm, at least
	// 60 minutes, not overlapping MaintenanceWindow. Default "01:00-02:00".
	SnapshotWindow string
	// MaintenanceWindow is the weekly UTC maintenance window,
	// ddd:hh:mm-ddd:hh:mm, at least 60 minutes. Default "sun:05:00-sun:06:00".
	MaintenanceWindow string
	// LogRetentionDays keeps the slow and engine logs; one of the values
	// CloudWatch Logs accepts. Default 14 in dev, 365 in prod (Control Tower CT.CLOUDWATCH.PR.2).
	LogRetentionDays int
	// AppUsername is the application's Redis user (ElastiCache RBAC): it
	// may run the data commands and none of the administrative ones; the
	// group's default user is disabled. Lowercase letters, digits and
	// hyphens, not "default". Default "app".
	AppUsername string
}

// RedisAppAccess is the application user's access string: every key and
// channel, every command but those Redis classifies @admin or @dangerous
// (FLUSHALL, FLUSHDB, KEYS, CONFIG, DEBUG, SHUTDOWN, ACL SETUSER, MONITOR,
// REPLICAOF, SAVE, and also SORT, RESTORE, MIGRATE and SWAPDB), and INFO
// back, which client libraries read at connect time. ElastiCache accepts channel patterns (&) from Redis 6.2,
// the oldest version validation admits.
const RedisAppAccess = "on ~* &* +@all -@admin -@dangerous +info"

// RedisDisabledAccess is the access string of the group's "default" user:
// off, so nobody authenticates as it (ElastiCache User Guide, RBAC:
// replace the default user with one that is not enabled).
const RedisDisabledAccess = "off -@all"

var (
	redisUser = regexp.MustCompile(`^[a-z][a-z0-9-]{0,39}$`)
	// redisFamilies maps each Redis OSS version ElastiCache creates to its
	// parameter-group family.
	redisFamilies = map[string]string{"6.2": "redis6.x", "7.0": "redis7", "7.1": "redis7"}
)

// RedisFamily returns the parameter-group family of Cache.EngineVersion,
// such as "redis7" or "redis6.x"; it is meaningful only for a validated
// config.
func (c Cache) RedisFamily() string { return redisFamilies[c.EngineVersion] }

// RedisFamilies maps each Redis OSS version ElastiCache creates to its
// parameter-group family.
func RedisFamilies() map[string]string { return maps.Clone(redisFamilies) }

func (c Config) validateCache(v *validator) {
	k := c.Cache
	versions := slices.Sorted(maps.Keys(redisFamilies))
	v.check(redisFamilies[k.EngineVersion] != "", "Cache.EngineVersion", k.EngineVersion, fmt.Sprintf("one of %v", versions))
	v.check(slices.Contains(cacheNodeTypes, k.NodeType), "Cache.NodeType", k.NodeType, fmt.Sprintf(
		"a current ElastiCache node type such as cache.t4g.micro or cache.r7g.large (families %s; lib/config/catalog.go lists the sizes and how to add one)",
		familiesOf(cacheNodeTypes)))
	v.check(k.Replicas >= 0 && k.Replicas <= 5, "Cache.Replicas", k.Replicas, "from 0 to 5")
	v.check(k.SnapshotRetentionDays >= 0 && k.SnapshotRetentionDays <= 35, "Cache.SnapshotRetentionDays", k.SnapshotRetentionDays, "from 0 to 35")
	snap, okS := parseDaily(v, "Cache.SnapshotWindow", k.SnapshotWindow, 60)
	maint, okM := parseWeekly(v, "Cache.MaintenanceWindow", k.MaintenanceWindow, 60)
	if okS && okM && dailyOverlapsWeekly(snap, maint) {
		v.add("Cache.MaintenanceWindow", k.MaintenanceWindow, fmt.Sprintf("a window that does not overlap Cache.SnapshotWindow (%s)", k.SnapshotWindow))
	}
	v.check(slices.Contains(RetentionDays, k.LogRetentionDays), "Cache.LogRetentionDays", k.LogRetentionDays, fmt.Sprintf("one of %v", RetentionDays))
	v.check(redisUser.MatchString(k.AppUsername) && k.AppUsername != "default", "Cache.AppUsername", k.AppUsername,
		`1-40 lowercase letters, digits or hyphens, starting with a letter, not "default"`)
}
