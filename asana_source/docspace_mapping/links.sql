-- Write-back links for Asana: "DocSpace room" on each project with an applied room (not on
-- projects deleted in Asana); with $tasks, "DocSpace folder" on each task with an applied
-- folder — a task in two projects has a folder in each room, so its links are named after the room.
-- Reads docspace_entries (key, kind, status, docspace_id, title) of this source's ledger.
-- Columns: key, target, name
WITH applied AS (
    SELECT key, kind FROM docspace_entries WHERE status = 'applied' AND docspace_id IS NOT NULL
),
rooms AS (
    SELECT key, substr(key, length('asana:project:') + 1) AS gid
    FROM applied WHERE kind = 'room' AND starts_with(key, 'asana:project:')
),
placed AS (
    SELECT key,
           split_part(substr(key, length('asana:task:') + 1), '@', 1) AS gid,
           split_part(substr(key, length('asana:task:') + 1), '@', 2) AS project
    FROM applied WHERE $tasks AND kind = 'folder' AND starts_with(key, 'asana:task:')
),
per_task AS (SELECT gid, count(*) AS n FROM placed GROUP BY gid)
SELECT r.key, r.gid AS target, 'DocSpace room' AS name
FROM rooms r
WHERE r.gid NOT IN (SELECT gid FROM asana_data.projects WHERE coalesce(is_deleted, false))
UNION ALL
SELECT p.key, p.gid,
       CASE WHEN t.n > 1 THEN 'DocSpace folder (' || coalesce(nullif(room.title, ''), p.project) || ')'
            ELSE 'DocSpace folder' END
FROM placed p JOIN per_task t ON t.gid = p.gid
LEFT JOIN docspace_entries room ON room.key = 'asana:project:' || p.project
