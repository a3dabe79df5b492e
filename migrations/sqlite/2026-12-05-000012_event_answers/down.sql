DROP TABLE event_answers;
