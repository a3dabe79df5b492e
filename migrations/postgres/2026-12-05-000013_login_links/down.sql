DROP TABLE login_links;
