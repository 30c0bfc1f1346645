import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatePopulation, personAt } from '../../members/population/population.js';
import { PopulationStore } from '../../members/population/store.js';
import { tempDir } from '../support/tmp.js';

describe('synthetic population', () => {
  it('is deterministic, with unique 9-digit ID numbers and valid dates', () => {
    const people = generatePopulation('test-seed', 2000);
    expect(generatePopulation('test-seed', 2000)).toEqual(people);
    expect(new Set(people.map((p) => p.idNumber)).size).toBe(2000);
    expect(new Set(people.map((p) => p.camdigikeyId)).size).toBe(2000);
    for (const p of people) {
      expect(p.idNumber).toMatch(/^\d{9}$/);
      expect(p.phone).toMatch(/^\+855\d{8,9}$/);
      expect(Date.parse(p.dob)).toBeLessThan(Date.parse(p.idIssuedDate));
      expect(p.firstNameKh).toMatch(/[\u1780-\u17FF]/);
      expect(p.firstNameEn).toMatch(/^[A-Z]+$/);
    }
    expect(people.filter((p) => p.gender === 'F').length).toBeGreaterThan(800);
    expect(new Set(people.map((p) => p.accountStatus))).toEqual(new Set(['ENABLED', 'DISABLED', 'EXPIRED', 'DELETED']));
  });

  it('is stored once and read back; a different seed is refused', () => {
    const dir = tempDir();
    try {
      const path = join(dir.path, 'people.db');
      const store = new PopulationStore(path, 's', 300);
      const p = personAt('s', 42);
      expect(store.byIdNumber(p.idNumber)).toEqual(p);
      expect(store.byCamdigikeyId(p.camdigikeyId)?.index).toBe(42);
      expect(store.setAccountStatus(p.idNumber, 'DISABLED')).toBe(true);
      store.close();
      const again = new PopulationStore(path, 's', 300);
      expect(again.byIdNumber(p.idNumber)?.accountStatus).toBe('DISABLED');
      expect(again.size).toBe(300);
      again.close();
      expect(() => new PopulationStore(path, 'other', 300)).toThrow(/holds population/);
    } finally {
      dir.cleanup();
    }
  });
});
