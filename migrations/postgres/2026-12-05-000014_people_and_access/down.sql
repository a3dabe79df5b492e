ALTER TABLE schools DROP COLUMN contact_email;
DROP TABLE school_requests;
DROP TABLE invitations;
DELETE FROM login_links WHERE purpose = 'sign_in';
ALTER TABLE login_links DROP CONSTRAINT login_links_purpose_check;
ALTER TABLE login_links ADD CONSTRAINT login_links_purpose_check CHECK (purpose IN ('reset'));
