import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { UserStore } from '../../central/users/store.js';

describe('central user store', () => {
  it('refuses bad names, empty passwords, duplicates and removing the last administrator, naming the field', () => {
    const users = new UserStore(new Database(':memory:'));
    expect(() => users.add('bad name', 'administrator', 'h')).toThrow(expect.objectContaining({ kind: 'invalid', field: 'name' }));
    expect(() => users.add('x'.repeat(65), 'administrator', 'h')).toThrow(expect.objectContaining({ field: 'name' }));
    expect(() => users.add('alice', 'administrator', '')).toThrow(expect.objectContaining({ field: 'password' }));
    users.add('alice', 'administrator', 'h');
    expect(() => users.add('alice', 'observer', 'h')).toThrow(expect.objectContaining({ kind: 'conflict', field: 'name' }));
    users.add('olga', 'observer', 'h');
    expect(() => users.remove('alice')).toThrow(expect.objectContaining({ kind: 'in-use', field: 'name' }));
    expect(users.list().map((u) => u.name)).toEqual(['alice', 'olga']);
    users.remove('olga');
    expect(users.count()).toBe(1);
  });
});
