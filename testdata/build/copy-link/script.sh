#!/bin/sh
echo linked
