#!/usr/bin/env node
// Committed entry point, so npm can link the bin before `prepare` has built dist/.
import '../dist/face/cli.js';
