-- Room members from Asana: the owner of each project. Columns: room_key, email, name, role
SELECT 'asana:project:' || gid AS room_key, lower(trim(owner__email)) AS email, owner__name AS name, 'owner' AS role
FROM asana_data.projects WHERE owner__gid IS NOT NULL
