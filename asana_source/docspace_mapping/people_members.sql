-- Room members from Asana: the members of each project. Columns: room_key, email, name, role
SELECT 'asana:project:' || p.gid AS room_key, lower(trim(m.email)) AS email, m.name, 'member' AS role
FROM asana_data.projects p JOIN asana_data.projects__members m ON m._dlt_parent_id = p._dlt_id
