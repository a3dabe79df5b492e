DROP TABLE install_settings;
