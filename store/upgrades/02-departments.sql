-- v2 -> v3: Rooms rathaus manages for the authority and its departments; staff status
CREATE TABLE managed_room (
	-- kind: authority_space | department_space | staff_room
	kind        TEXT   NOT NULL,
	-- key: the department id ('' for the authority space)
	key         TEXT   NOT NULL,
	room_id     TEXT   NOT NULL UNIQUE,
	-- archived_at is set when the department left the config.
	archived_at BIGINT,
	PRIMARY KEY (kind, key)
);

CREATE TABLE staff_status (
	user_id    TEXT   PRIMARY KEY,
	status     TEXT   NOT NULL,
	updated_at BIGINT NOT NULL
);
