#!/usr/bin/env node
import '../dist/daemon.js'
