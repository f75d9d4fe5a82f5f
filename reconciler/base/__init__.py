"""The ground floor: errors, the clock, safe XML, atomic files, shipped resources and JSON Schemas."""
