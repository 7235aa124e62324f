#!/usr/bin/env node
// The `natkit-stun` command: a committed launcher, so package managers can link it before a build.
import '../dist/cli.js';
