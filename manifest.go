package expensebot

import _ "embed" // for Manifest

// Manifest is the Slack app manifest (manifest.yml) an administrator creates the app from: the
// scopes it asks for are the ones the setup checks compare with those the bot token was granted.
//
//go:embed manifest.yml
var Manifest []byte
