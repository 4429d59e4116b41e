import { describe, expect, it } from 'vitest';
import { Version } from '../../../src/api/microversion.js';
import {
  checkInventoryCapacity,
  InvalidInventoryCapacity,
  inventoryCapacity,
  withInventoryDefaults,
} from '../../../src/api/ops/inventories.js';

const RP = 'c1b2a3d4-0000-4000-8000-000000000001';

describe("inventory capacity (placement's Inventory.capacity and _validate_inventory_capacity)", () => {
  it("fills in placement's defaults", () => {
    expect(withInventoryDefaults({ total: 4 })).toEqual({
      total: 4,
      reserved: 0,
      min_unit: 1,
      max_unit: 2147483647,
      step_size: 1,
      allocation_ratio: 1.0,
    });
  });

  it.each([
    [{ total: 10, reserved: 3, allocation_ratio: 1.5 }, 10],
    [{ total: 10, reserved: 3, allocation_ratio: 0.1 }, 0],
    [{ total: 1, reserved: 5, allocation_ratio: 0.5 }, -2],
    [{ total: 3, reserved: 0, allocation_ratio: 16.0 }, 48],
  ])('%j has capacity %d (truncated toward zero, as int())', (given, capacity) => {
    expect(inventoryCapacity(withInventoryDefaults(given))).toBe(capacity);
  });

  it('refuses reserved = total before 1.26 and allows it from 1.26', () => {
    const inv = withInventoryDefaults({ total: 5, reserved: 5 });
    expect(() => checkInventoryCapacity(new Version(1, 25), RP, [['VCPU', inv]])).toThrow(
      `Invalid inventory for 'VCPU' on resource provider '${RP}'. The reserved value is greater than or equal to total.`,
    );
    expect(() => checkInventoryCapacity(new Version(1, 26), RP, [['VCPU', inv]])).not.toThrow();
  });

  it('names the first failing class, in the order given', () => {
    const ok = withInventoryDefaults({ total: 5 });
    const bad = withInventoryDefaults({ total: 5, reserved: 6 });
    const check = () =>
      checkInventoryCapacity(new Version(1, 26), RP, [
        ['VCPU', ok],
        ['DISK_GB', bad],
        ['MEMORY_MB', bad],
      ]);
    expect(check).toThrow(InvalidInventoryCapacity);
    expect(check).toThrow(
      `Invalid inventory for 'DISK_GB' on resource provider '${RP}'. The reserved value is greater than total.`,
    );
  });

  it('counts a zero allocation ratio as no capacity', () => {
    const inv = withInventoryDefaults({ total: 5, allocation_ratio: 0 });
    expect(() => checkInventoryCapacity(new Version(1, 0), RP, [['VCPU', inv]])).toThrow();
    expect(() => checkInventoryCapacity(new Version(1, 39), RP, [['VCPU', inv]])).not.toThrow();
  });
});
