DROP TABLE expiry_reminders;
DROP TABLE false_alarms;
DROP TABLE bot_conversations;
DROP TABLE bot_profiles;
