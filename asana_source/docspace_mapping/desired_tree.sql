-- Desired DocSpace tree for Asana (docspace_destination reads it through asana_source.DOCSPACE_SPEC): project → room; (section → folder when grouped);
-- task → folder in the room of each project it belongs to; subtask → folder inside its parent's folder.
-- Parameters: $grouped (bool), $nested_subtasks (bool); $parts, $part (int): a big account is
-- read in parts (docspace_destination.desired): every room in each, and the folders of the rooms
-- whose rank among the projects (by gid) modulo $parts is $part ($parts = 1: all of them).
-- Columns: key, entity, kind, parent_key, name, source_id, archived, orphaned, depth, attributes
-- (attributes: JSON {name, team, custom_fields} of a project, matched by room-template rules)
WITH RECURSIVE
projects AS (
    SELECT p.gid, p.name, p.team__name AS team_name,
           coalesce(p.archived, false) OR coalesce(p.completed, false) OR coalesce(p.is_deleted, false) AS archived
    FROM asana_data.projects p
),
part_projects AS (  -- the rooms whose folders this part reads
    SELECT gid FROM (SELECT gid, row_number() OVER (ORDER BY gid) AS room_rank FROM projects) r
    WHERE r.room_rank % $parts = $part
),
project_fields AS (
    SELECT p.gid, json_group_object(cf.name, coalesce(cf.display_value, cf.enum_value__name)) AS custom_fields
    FROM asana_data.projects p
    JOIN asana_data.projects__custom_fields cf ON cf._dlt_parent_id = p._dlt_id
    WHERE cf.name IS NOT NULL
    GROUP BY p.gid
),
sections AS (
    SELECT s.gid, s.name, s.project__gid AS project_gid, coalesce(s.is_deleted, false) AS deleted
    FROM asana_data.sections s
    WHERE $grouped AND s.project__gid IN (SELECT gid FROM part_projects)
),
placed(gid, name, deleted, project_gid, parent_key, depth) AS (
    SELECT t.gid, t.name, coalesce(t.is_deleted, false), m.project__gid,
           CASE WHEN m.section__gid IN (SELECT gid FROM sections) THEN 'asana:section:' || m.section__gid
                ELSE 'asana:project:' || m.project__gid END,
           CASE WHEN m.section__gid IN (SELECT gid FROM sections) THEN 2 ELSE 1 END
    FROM asana_data.tasks t
    JOIN asana_data.tasks__memberships m ON m._dlt_parent_id = t._dlt_id
    WHERE t.parent__gid IS NULL AND m.project__gid IN (SELECT gid FROM part_projects)
    UNION ALL
    SELECT s.gid, s.name, coalesce(s.is_deleted, false), p.project_gid,
           'asana:task:' || p.gid || '@' || p.project_gid, p.depth + 1
    FROM asana_data.tasks s
    JOIN placed p ON s.parent__gid = p.gid
    WHERE $nested_subtasks
)
SELECT 'asana:project:' || p.gid AS key, 'asana:project:' || p.gid AS entity, 'room' AS kind,
       NULL AS parent_key, p.name, p.gid AS source_id, p.archived, false AS orphaned, 0 AS depth,
       json_object('name', p.name, 'team', p.team_name, 'custom_fields', f.custom_fields)::VARCHAR AS attributes
FROM projects p LEFT JOIN project_fields f ON f.gid = p.gid
UNION ALL
SELECT 'asana:section:' || s.gid, 'asana:section:' || s.gid, 'folder', 'asana:project:' || s.project_gid,
       s.name, s.gid, false, s.deleted, 1, NULL
FROM sections s
UNION ALL
SELECT DISTINCT 'asana:task:' || gid || '@' || project_gid, 'asana:task:' || gid, 'folder', parent_key,
       name, gid, false, deleted, depth, NULL
FROM placed
